"""The Gemini model of the day through the API: resolved from the listing, its capabilities row
validating every channel, imageSize on generations and live URLs, sizes read from the bytes."""

from __future__ import annotations

import httpx
import pytest
import pyvips

from tests.conftest import Keys
from tests.integration.providers.support import generate
from tests.support.gemini_server import GeminiServer, ImageReply, render_png

NEVER_SEEN = ("gemini-9-flash", "gemini-9-flash-lite", "gemini-9-flash-image", "gemini-8-pro")


def size_of(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


async def test_only_a_key_and_models_never_seen_before(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    """Done when: a generation (enhanced and analysed) and an enhancement succeed on the newest
    listed Flash models, whose names the code has never seen, and /api/info names them."""
    gemini_server.set_models(*NEVER_SEEN)
    response = await generate(client, keys, prompt="a lighthouse in a storm", aspectRatio="4:1")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["model"] == "gemini-9-flash-image"
    assert (data["enhancer"], data["synthesizer"]) == ("gemini", "gemini")
    assert data["outputImage"]["analyzer"] == "gemini"
    assert (data["outputImage"]["width"], data["outputImage"]["height"]) == (2048, 512)
    enhanced = await client.post(
        "/api/v1/enhance", headers=keys.headers(), json={"prompt": "un phare", "aspectRatio": "1:8"}
    )
    assert enhanced.status_code == 200, enhanced.text
    assert enhanced.json()["data"]["enhancer"] == "gemini"
    assert {(r.kind, r.model) for r in gemini_server.requests if r.kind != "list"} == {
        ("enhance", "gemini-9-flash"),
        ("image", "gemini-9-flash-image"),
        ("analyze", "gemini-9-flash"),
    }
    info = (await client.get("/api/info")).json()["data"]
    image, text = info["models"]["image"], info["models"]["text"]
    assert (image["model"], image["chosen"], image["family"]) == (
        "gemini-9-flash-image",
        "newest listed",
        "gemini-3.1-flash-image",
    )
    assert (text["model"], text["chosen"], text["thinking"]) == (
        "gemini-9-flash",
        "newest listed",
        "level",
    )
    assert info["capabilities"]["model"] == "gemini-9-flash-image"
    assert info["aspectRatios"]["8:1"] == {"width": 3072, "height": 384}
    assert info["imageSizes"] == ["512", "1K", "2K", "4K"]


async def test_image_size_reaches_the_model_and_comes_back(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    response = await generate(
        client, keys, prompt="a kite", aspectRatio="16:9", imageSize="2K", autoEnhance=False
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    (image,) = gemini_server.requests_of("image")
    assert (image.aspect_ratio, image.image_size) == ("16:9", "2K")
    assert data["imageSize"] == "2K"
    assert (data["outputImage"]["width"], data["outputImage"]["height"]) == (2752, 1536)


async def test_the_size_reported_is_the_size_of_the_bytes(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    odd = render_png("1:1", "odd", size=(1000, 500))  # not what the table says for 1:1
    gemini_server.queue(ImageReply(odd), kind="image")
    response = await generate(client, keys, prompt="a kite", autoEnhance=False)
    assert response.status_code == 201, response.text
    output = response.json()["data"]["outputImage"]
    assert (output["width"], output["height"]) == (1000, 500)


@pytest.mark.parametrize(
    "gemini", [{"gemini_image_model": "gemini-2.5-flash-image"}], indirect=True
)
async def test_every_channel_validates_against_the_resolved_models_row(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    for body in ({"aspectRatio": "1:8"}, {"aspectRatio": "16:9", "imageSize": "2K"}):
        response = await generate(client, keys, prompt="a kite", **body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert "gemini-2.5-flash-image" in error["message"]
    enhance = await client.post(
        "/api/v1/enhance", headers=keys.headers(), json={"prompt": "a kite", "aspectRatio": "8:1"}
    )
    assert enhance.status_code == 400
    assert "not supported by gemini-2.5-flash-image" in enhance.json()["error"]["message"]
    live = await client.get(
        "/cdn/acme/site/live/blog?prompt=a+kite&aspectRatio=1:4",
        headers={"Accept": "application/json"},
    )
    assert live.status_code == 400
    assert "not supported by gemini-2.5-flash-image" in live.json()["error"]["message"]
    assert [r.kind for r in gemini_server.requests] == ["list"]  # no model was asked
    info = (await client.get("/api/info")).json()["data"]
    assert info["imageSizes"] == ["1K"]
    assert info["aspectRatios"]["16:9"] == {"width": 1344, "height": 768}


async def test_a_live_url_with_an_image_size(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    url = "/cdn/acme/site/live/banner?prompt=a+long+mountain+ridge&aspectRatio=8:1&imageSize=512"
    first = await client.get(url)
    assert first.status_code == 200, first.text
    assert size_of(first.content) == (1536, 192)
    (image,) = gemini_server.requests_of("image")
    assert (image.aspect_ratio, image.image_size) == ("8:1", "512")
    again = await client.get(url.replace("imageSize=512", "imageSize=0.5k"))
    assert again.headers["x-cache-status"] == "HIT"
    assert len(gemini_server.requests_of("image")) == 1
