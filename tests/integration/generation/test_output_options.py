"""aspectRatio and imageSize: the active synthesizer's capabilities row decides, alike for
`POST /generations`, `POST /enhance` and live URLs, and `/api/info` shows that row.
(Here the embedded synthesizer's row; tests/integration/providers has Gemini's.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import pyvips

from tests.conftest import Keys

API = "/api/v1"


def size_of(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


async def test_info_shows_the_active_models_row(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/info")).json()["data"]
    capabilities = data["capabilities"]
    assert (capabilities["model"], capabilities["family"]) == ("banatie-local-1", "local")
    assert capabilities["imageSizes"] == data["imageSizes"] == ["512", "1K", "2K", "4K"]
    assert capabilities["defaultImageSize"] == "1K"
    assert len(capabilities["aspectRatios"]) == 10
    assert data["aspectRatios"]["16:9"] == {"width": 1344, "height": 768}
    assert capabilities["sizes"]["2K"]["16:9"] == {"width": 2688, "height": 1536}
    assert data["models"] == {"image": {"model": "banatie-local-1"}}


async def test_image_size_is_stored_returned_and_measured(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    response = await client.post(
        f"{API}/generations",
        headers=keys.headers(),
        json={"prompt": "a paper kite", "aspectRatio": "16:9", "imageSize": "2k"},
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["imageSize"] == "2K"
    output = data["outputImage"]
    assert (output["width"], output["height"]) == (2688, 1536)
    stored = await client.get(output["storageUrl"].removeprefix("http://testserver"))
    assert size_of(stored.content) == (2688, 1536)  # what is reported is what the bytes are
    got = await client.get(f"{API}/generations/{data['id']}", headers=keys.headers())
    assert got.json()["data"]["imageSize"] == "2K"
    again = await client.post(f"{API}/generations/{data['id']}/regenerate", headers=keys.headers())
    assert again.status_code == 200, again.text
    assert (again.json()["data"]["outputImage"]["width"], again.json()["data"]["imageSize"]) == (
        2688,
        "2K",
    )

    default = await client.post(
        f"{API}/generations", headers=keys.headers(), json={"prompt": "a paper kite"}
    )
    assert default.json()["data"]["imageSize"] == "1K"  # the model's default, recorded


@pytest.mark.parametrize(
    ("ratio", "size", "supported"),
    [
        ("1:8", None, "use one of 1:1, 2:3"),
        ("7:5", None, "use one of 1:1, 2:3"),
        ("16:9", "8K", "use one of 512, 1K, 2K, 4K"),
        ("16:9", "big", "use one of 512, 1K, 2K, 4K"),
    ],
)
async def test_the_three_channels_refuse_alike(
    client: httpx.AsyncClient, keys: Keys, ratio: str, size: str | None, supported: str
) -> None:
    body: dict[str, Any] = {"prompt": "a paper kite", "aspectRatio": ratio}
    query = f"aspectRatio={ratio}"
    if size is not None:
        body["imageSize"] = size
        query += f"&imageSize={size}"
    answers = [
        await client.post(f"{API}/generations", headers=keys.headers(), json=body),
        await client.get(
            f"/cdn/acme/site/live/blog?prompt=a+paper+kite&{query}",
            headers={"Accept": "application/json"},
        ),
    ]
    if size is None:
        answers.append(
            await client.post(
                f"{API}/enhance",
                headers=keys.headers(),
                json={"prompt": "a paper kite", "aspectRatio": ratio},
            )
        )
    errors = [answer.json()["error"] for answer in answers]
    assert [answer.status_code for answer in answers] == [400] * len(answers)
    assert {e["code"] for e in errors} == {"VALIDATION_ERROR"}
    assert "banatie-local-1" in errors[0]["message"]
    assert supported in errors[0]["message"]
    assert {e["message"] for e in errors} == {errors[0]["message"]}
    listed = await client.get(f"{API}/generations", headers=keys.headers())
    assert listed.json()["data"] == []


async def test_live_urls_take_an_image_size_as_part_of_the_key(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    small = "/cdn/acme/site/live/blog?prompt=a+red+kite&imageSize=512"
    first = await client.get(small)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache-status"] == "MISS"
    assert size_of(first.content) == (512, 512)
    same = await client.get("/cdn/acme/site/live/blog?prompt=a+red+kite&image_size=0.5K")
    assert same.headers["x-cache-status"] == "HIT"
    assert same.content == first.content
    default = await client.get("/cdn/acme/site/live/blog?prompt=a+red+kite")
    assert default.headers["x-cache-status"] == "MISS"
    assert size_of(default.content) == (1024, 1024)
    generations = (await client.get(f"{API}/generations", headers=keys.headers())).json()
    assert sorted(g["imageSize"] for g in generations["data"]) == ["1K", "512"]
    built = await client.post(
        f"{API}/live/urls",
        headers=keys.headers(),
        json={"scope": "blog", "prompt": "a red kite", "imageSize": "0.5k"},
    )
    assert built.status_code == 200, built.text
    assert "imageSize=512" in built.json()["data"]["url"]
