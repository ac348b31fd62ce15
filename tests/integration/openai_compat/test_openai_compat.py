"""The real `openai` package against `/openai/v1` (SQLite and PostgreSQL): generations and edits
come out of Banatie's pipeline, listed, charged and stored like any other generation."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import openai
import pytest
import pyvips
from fastapi import FastAPI
from openai import AsyncOpenAI

from tests.conftest import Keys
from tests.support.images import solid_png


def _openai(app: FastAPI, key: str, **options: object) -> AsyncOpenAI:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return AsyncOpenAI(
        api_key=key,
        base_url="http://testserver/openai/v1",
        # openai 3 types this as httpx2's client; httpx's speaks the same interface.
        http_client=httpx.AsyncClient(transport=transport),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def oai(app: FastAPI, keys: Keys) -> AsyncIterator[AsyncOpenAI]:
    client = _openai(app, keys.project, max_retries=0)
    yield client
    await client.close()


def _size(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


async def test_generate_urls(oai: AsyncOpenAI, client: httpx.AsyncClient, keys: Keys) -> None:
    result = await oai.images.generate(
        model="dall-e-3", prompt="a red fox in a snowy forest", n=2, size="1536x1024", user="u-1"
    )
    assert result.data is not None and len(result.data) == 2
    for item in result.data:
        assert item.url and item.url.startswith("http://testserver/cdn/acme/site/img/")
        assert item.revised_prompt
        fetched = await client.get(item.url.removeprefix("http://testserver"))
        assert fetched.status_code == 200
        assert _size(fetched.content) == (1248, 832)  # 1536x1024 -> 3:2
    assert result.size == "1248x832"

    listed = (await client.get("/api/v1/images", headers=keys.headers())).json()
    assert [image["source"] for image in listed["data"]] == ["openai", "openai"]
    only = await client.get("/api/v1/images?source=openai", headers=keys.headers())
    assert only.json()["pagination"]["total"] == 2
    made = (await client.get("/api/v1/generations", headers=keys.headers())).json()["data"]
    assert {g["source"] for g in made} == {"openai"}
    assert {g["flowId"] for g in made} == {None}
    assert made[0]["meta"] == {"openaiUser": "u-1"}
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 2  # each image is a charged generation


async def test_generate_b64_json(oai: AsyncOpenAI) -> None:
    result = await oai.images.generate(
        prompt="a lighthouse at dusk", size="1024x1792", response_format="b64_json"
    )
    assert result.data is not None
    (item,) = result.data
    assert item.url is None and item.b64_json
    assert _size(base64.b64decode(item.b64_json)) == (768, 1344)  # nearest ratio: 9:16
    default = await oai.images.generate(prompt="a small cactus", size="auto")
    assert default.size == "1024x1024"


async def test_edit_with_images_and_mask(
    oai: AsyncOpenAI, client: httpx.AsyncClient, keys: Keys
) -> None:
    logo = solid_png(64, 64, (0, 90, 200))
    single = await oai.images.edit(
        image=("logo.png", logo, "image/png"),
        prompt="a coffee cup with this logo",
        mask=("mask.png", solid_png(64, 64, (0, 0, 0)), "image/png"),
        response_format="b64_json",
    )
    assert single.data is not None and single.data[0].b64_json
    assert single.model_extra and "mask" in single.model_extra["notes"][0]
    (generation_id,) = single.model_extra["generation_ids"]
    generation = (
        await client.get(f"/api/v1/generations/{generation_id}", headers=keys.headers())
    ).json()["data"]
    (reference,) = generation["referencedImages"]
    stored = (await client.get(f"/api/v1/images/{reference['id']}", headers=keys.headers())).json()
    assert stored["data"]["source"] == "uploaded"
    assert stored["data"]["originalFilename"] == "logo.png"

    several = await oai.images.edit(
        image=[("a.png", logo, "image/png"), ("b.png", solid_png(32, 32), "image/png")],
        prompt="both logos on a banner",
        size="1024x1024",
    )
    (generation_id,) = several.model_extra["generation_ids"]  # type: ignore[index]
    generation = (
        await client.get(f"/api/v1/generations/{generation_id}", headers=keys.headers())
    ).json()["data"]
    assert len(generation["referencedImages"]) == 2
    assert several.data is not None and several.data[0].url

    with pytest.raises(openai.BadRequestError) as not_an_image:
        await oai.images.edit(image=("x.png", b"not an image", "image/png"), prompt="x")
    assert not_an_image.value.status_code == 400


async def test_models(oai: AsyncOpenAI, app: FastAPI) -> None:
    capabilities = await app.state.runtime.synthesizer.capabilities()
    ids = [model.id async for model in oai.models.list()]
    assert capabilities.model in ids
    result = await oai.images.generate(model=ids[0], prompt="a kite")
    assert result.data is not None and len(result.data) == 1


async def test_errors_in_openai_shape(oai: AsyncOpenAI, app: FastAPI) -> None:
    with pytest.raises(openai.NotFoundError) as unknown:
        await oai.images.generate(model="no-such-model", prompt="a fox")
    assert unknown.value.code == "model_not_found"
    assert unknown.value.param == "model"
    assert unknown.value.type == "invalid_request_error"

    with pytest.raises(openai.BadRequestError) as too_many:
        await oai.images.generate(prompt="a fox", n=5)
    assert too_many.value.param == "n"
    with pytest.raises(openai.BadRequestError) as bad_size:
        await oai.images.generate(prompt="a fox", size="huge")
    assert bad_size.value.param == "size"
    with pytest.raises(openai.BadRequestError, match="@nowhere"):
        await oai.images.generate(prompt="a portrait of @nowhere")

    stranger = _openai(app, "bnt_not_a_key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as bad_key:
        await stranger.images.generate(prompt="a fox")
    assert bad_key.value.type == "authentication_error"
    await stranger.close()
