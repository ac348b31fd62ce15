"""Generation through the Gemini adapters, end to end on SQLite and PostgreSQL.

The real google-genai client talks HTTP to the wire-format server; each test checks what the
server received (prompt, aspect ratio, system instruction, reference image bytes, API key) and
what Banatie answered, and that the answers have the embedded adapters' shapes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from banatie.providers.gemini.client import GeminiClient
from banatie.runtime import build_runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.integration.providers.support import (
    assert_same_shape,
    generate,
    upload,
    usage_used,
)
from tests.support.gemini_server import (
    GEMINI_3_OUTPUT_TOKENS,
    GeminiServer,
    JsonText,
    Malformed,
    ServerFailure,
    Slow,
    render_png,
)
from tests.support.images import encode, solid_png

SERVER_ALT_TEXT = "A bright yellow square on a softly graded background"


def test_one_shared_client_for_the_three_adapters(app: FastAPI) -> None:
    runtime = app.state.runtime
    assert (runtime.synthesizer.name, runtime.enhancer.name, runtime.analyzer.name) == (
        "gemini",
        "gemini",
        "gemini",
    )
    shared = runtime.providers.gemini
    assert isinstance(shared, GeminiClient)
    assert runtime.synthesizer.client is shared
    assert runtime.enhancer.client is shared
    assert runtime.analyzer.client is shared
    assert runtime.analyzer.timeout_seconds == 20.0  # gemini_analyzer_timeout_seconds


async def test_runtime_close_closes_the_shared_client(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = build_runtime(settings)
    shared = runtime.providers.gemini if runtime.providers else None
    assert shared is not None
    closed: list[bool] = []
    real = shared.aclose

    async def spy() -> None:
        closed.append(True)
        await real()

    monkeypatch.setattr(shared, "aclose", spy)
    await runtime.close()
    assert closed == [True]


async def test_info_lists_the_gemini_adapters(client: httpx.AsyncClient) -> None:
    providers = (await client.get("/api/info")).json()["data"]["providers"]
    assert providers == {"synthesizer": "gemini", "enhancer": "gemini", "analyzer": "gemini"}


async def test_plain_generation_with_auto_enhance(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    gemini_server.model_version = "gemini-3.1-flash-image-preview-0226"
    response = await generate(
        client, keys, prompt="a red fox in a snowy forest", aspectRatio="16:9"
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]

    enhance, image, analyze = (
        gemini_server.requests_of(k) for k in ("enhance", "image", "analyze")
    )
    assert len(enhance) == len(image) == len(analyze) == 1
    assert {r.api_key for r in gemini_server.requests} == {gemini_server.api_key}
    # The enhancer agent: the user's prompt, JSON output, instructions for template and ratio.
    assert enhance[0].model == "gemini-3-flash-preview"  # resolved from models.list
    assert enhance[0].prompt == "a red fox in a snowy forest"
    assert enhance[0].response_mime_type == "application/json"
    instruction = enhance[0].system_instruction or ""
    assert "Template: General" in instruction
    assert "Aspect ratio: 16:9 (wide landscape" in instruction
    # The image model gets the enhanced prompt, the ratio and nothing else.
    assert image[0].model == "gemini-3.1-flash-image-preview"
    assert image[0].prompt == data["prompt"] != data["originalPrompt"]
    assert data["prompt"].startswith("A carefully composed, high-detail image of a red fox")
    assert image[0].aspect_ratio == "16:9"
    assert image[0].response_modalities == ["IMAGE"]
    assert image[0].images == []
    assert image[0].system_instruction is None  # no namespace style
    # The analyzer agent sees the stored image and the user's prompt.
    assert analyze[0].model == "gemini-3-flash-preview"
    png = render_png("16:9", data["prompt"], size=(1376, 768))
    assert [i.data for i in analyze[0].images] == [png]
    assert "a red fox in a snowy forest" in analyze[0].prompt

    assert data["status"] == "success"
    assert data["originalPrompt"] == "a red fox in a snowy forest"
    assert data["detectedLanguage"] == "en"
    assert (data["enhancer"], data["synthesizer"]) == ("gemini", "gemini")
    assert data["model"] == "gemini-3.1-flash-image-preview-0226"  # modelVersion of the answer
    assert data["imageSize"] == "1K"  # the model's default, recorded
    usage = data["tokenUsage"]
    assert usage["outputTokens"] == GEMINI_3_OUTPUT_TOKENS["1K"]
    assert usage["promptTokens"] > 0
    assert usage["totalTokens"] == (
        usage["promptTokens"] + usage["outputTokens"] + usage["thoughtsTokens"]
    )
    out = data["outputImage"]
    assert (out["width"], out["height"], out["mimeType"]) == (1376, 768, "image/png")
    assert out["fileHash"] == hashlib.sha256(png).hexdigest()
    assert out["analyzer"] == "gemini"
    assert out["focalPoint"] == {"x": 0.62, "y": 0.41}
    assert out["altText"] == SERVER_ALT_TEXT
    assert out["description"].startswith("A simple abstract composition")
    assert out["tags"] == ["abstract", "yellow", "square", "gradient"]
    assert out["placeholderHash"] and out["dominantColors"]  # measured locally
    fetched = await client.get(out["storageUrl"].removeprefix("http://testserver"))
    assert fetched.status_code == 200 and fetched.content == png

    # Stored as answered: the same fields come back from GET.
    got = await client.get(f"/api/v1/generations/{data['id']}", headers=keys.headers())
    stored = got.json()["data"]
    for field in ("model", "tokenUsage", "enhancer", "synthesizer", "prompt", "detectedLanguage"):
        assert stored[field] == data[field], field
    assert stored["outputImage"]["analyzer"] == "gemini"
    assert await usage_used(client, keys) == 1


async def test_auto_enhance_off_sends_the_prompt_as_written(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    response = await generate(
        client,
        keys,
        prompt="lighthouse at dusk, oil painting",
        aspectRatio="3:4",
        autoEnhance=False,
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert gemini_server.requests_of("enhance") == []
    (image,) = gemini_server.requests_of("image")
    assert image.prompt == "lighthouse at dusk, oil painting" == data["prompt"]
    assert image.aspect_ratio == "3:4"
    assert data["autoEnhance"] is False
    assert data["enhancer"] is None and data["detectedLanguage"] is None
    assert data["model"] == "gemini-3.1-flash-image-preview"
    assert (data["outputImage"]["width"], data["outputImage"]["height"]) == (896, 1200)


async def test_alias_references_are_sent_as_inline_images(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    logo_png = solid_png(80, 80, (255, 0, 255))
    mascot_jpeg = encode(solid_png(64, 96, (0, 120, 255)), ".jpg")
    logo = await upload(client, keys, logo_png, "@logo")
    mascot = await upload(client, keys, mascot_jpeg, "@mascot", "image/jpeg")
    assert logo["analyzer"] == mascot["analyzer"] == "gemini"  # uploads use the agent too
    gemini_server.reset()

    response = await generate(
        client,
        keys,
        prompt="a coffee mug with @logo printed on it, held by @mascot",
        template="product",
        aspectRatio="4:5",
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [(r["id"], r["alias"]) for r in data["referencedImages"]] == [
        (logo["id"], "@logo"),
        (mascot["id"], "@mascot"),
    ]

    (enhance,) = gemini_server.requests_of("enhance")
    instruction = enhance.system_instruction or ""
    assert "Template: Product" in instruction
    assert "Reference images sent with the prompt: @logo, @mascot" in instruction

    (image,) = gemini_server.requests_of("image")
    assert image.prompt == data["prompt"]
    assert "@logo" in image.prompt and "@mascot" in image.prompt  # kept verbatim
    assert image.aspect_ratio == "4:5"
    assert image.texts[1:] == ["Reference image 1: @logo", "Reference image 2: @mascot"]
    assert [(i.mime_type, i.data) for i in image.images] == [
        ("image/png", logo_png),
        ("image/jpeg", mascot_jpeg),
    ]
    usage = data["tokenUsage"]
    assert usage["promptTokens"] > 2 * 258  # two input images are billed
    assert data["outputImage"]["analyzer"] == "gemini"


async def test_explicit_reference_without_enhancement(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    logo_png = solid_png(40, 40, (10, 200, 10))
    logo = await upload(client, keys, logo_png, "@badge")
    gemini_server.reset()
    response = await generate(
        client, keys, prompt="a trophy", referenceImages=[logo["id"]], autoEnhance=False
    )
    assert response.status_code == 201, response.text
    (image,) = gemini_server.requests_of("image")
    assert image.prompt == "a trophy"
    assert image.texts[1:] == ["Reference image 1: @badge"]
    assert [i.data for i in image.images] == [logo_png]


async def test_multilingual_prompt_is_translated_by_the_agent(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    response = await generate(client, keys, prompt="рыжая лиса в заснеженном лесу")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["detectedLanguage"] == "ru"
    assert gemini_server.requests_of("image")[0].prompt == data["prompt"]


async def test_regenerate_through_gemini(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    created = (await generate(client, keys, prompt="blue whale", alias="@whale")).json()["data"]
    again = await client.post(
        f"/api/v1/generations/{created['id']}/regenerate", headers=keys.headers()
    )
    assert again.status_code == 200, again.text
    assert len(gemini_server.requests_of("image")) == 2
    assert again.json()["data"]["outputImage"]["alias"] == "@whale"
    assert await usage_used(client, keys) == 2


async def test_a_retried_server_error_still_succeeds(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    gemini_server.queue(ServerFailure(503), kind="image")
    response = await generate(client, keys, prompt="a kite", autoEnhance=False)
    assert response.status_code == 201, response.text
    assert [r.status for r in gemini_server.requests_of("image")] == [503, 200]
    assert await usage_used(client, keys) == 1


ANALYZER_FAILURES: dict[str, Any] = {
    "500": ServerFailure(500),
    "slow": Slow(seconds=3),
    "malformed-body": Malformed(),
    "focal-point-outside-0..1000": JsonText({"focalPoint": [500, 3000], "altText": "x"}),
    "not-json": JsonText("not json at all"),
}


@pytest.mark.parametrize("gemini", [{"gemini_analyzer_timeout_seconds": 0.3}], indirect=True)
async def test_analyzer_failure_keeps_the_local_analysis(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    for n, (name, failure) in enumerate(ANALYZER_FAILURES.items(), start=1):
        gemini_server.reset()
        gemini_server.queue(failure, kind="analyze")
        response = await generate(client, keys, prompt=f"a red bicycle {n}", autoEnhance=False)
        assert response.status_code == 201, (name, response.text)
        out = response.json()["data"]["outputImage"]
        assert out["analyzer"] == "local", name
        assert out["altText"] and out["altText"] != SERVER_ALT_TEXT, name
        assert 0 <= out["focalPoint"]["x"] <= 1 and 0 <= out["focalPoint"]["y"] <= 1
        assert out["placeholderHash"] and out["dominantColors"], name
        assert gemini_server.pending() == 0, name
        assert len(gemini_server.requests_of("analyze")) <= 1, name  # never retried
        assert await usage_used(client, keys) == n, name


async def test_same_shapes_as_the_embedded_adapters(
    client: httpx.AsyncClient,
    embedded_client: httpx.AsyncClient,
    keys: Keys,
) -> None:
    logo = solid_png(48, 48, (250, 10, 10))
    await upload(client, keys, logo, "@logo")
    bodies: list[dict[str, Any]] = [
        {"prompt": "a red fox", "aspectRatio": "16:9"},
        {"prompt": "a lamp", "autoEnhance": False, "template": "minimalist"},
        {"prompt": "a cup with @logo", "alias": "@cup", "flowAlias": "@hero"},
    ]
    for body in bodies:
        via_gemini = await client.post("/api/v1/generations", headers=keys.headers(), json=body)
        embedded = await embedded_client.post(
            "/api/v1/generations", headers=keys.headers(), json=body
        )
        assert via_gemini.status_code == embedded.status_code == 201, (
            via_gemini.text,
            embedded.text,
        )
        assert_same_shape(via_gemini.json(), embedded.json())
        assert via_gemini.json()["data"]["synthesizer"] == "gemini"
        assert embedded.json()["data"]["synthesizer"] == "local"
    for path in ("/api/v1/generations", "/api/v1/images"):
        listed_gemini = await client.get(path, headers=keys.headers())
        listed_embedded = await embedded_client.get(path, headers=keys.headers())
        assert_same_shape(listed_gemini.json(), listed_embedded.json())
