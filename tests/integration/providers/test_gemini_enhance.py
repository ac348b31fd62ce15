"""`POST /api/v1/enhance` on the Gemini enhancer agent, against the wire-format server."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Keys
from tests.integration.providers.support import assert_same_shape, usage_used
from tests.support.gemini_server import (
    Behaviour,
    BlockPrompt,
    FinishWithoutImage,
    GeminiServer,
    JsonText,
    RateLimit,
    ServerFailure,
    Slow,
)


async def enhance(client: httpx.AsyncClient, keys: Keys, **body: object) -> httpx.Response:
    return await client.post("/api/v1/enhance", headers=keys.headers(), json=body)


async def test_enhance_asks_the_agent(
    client: httpx.AsyncClient,
    embedded_client: httpx.AsyncClient,
    keys: Keys,
    gemini_server: GeminiServer,
) -> None:
    body = {"prompt": "eine rote Katze mit @logo im Schnee", "template": "sticker"}
    response = await enhance(client, keys, **body, aspectRatio="9:16")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["enhancer"] == "gemini"
    assert data["originalPrompt"] == body["prompt"]
    assert data["enhancedPrompt"].startswith(
        "A carefully composed, high-detail image of eine rote Katze"
    )
    assert "@logo" in data["enhancedPrompt"]
    assert data["detectedLanguage"] == "de"
    assert data["rationale"].startswith("Rewrote the keywords")
    assert (data["template"], data["aspectRatio"]) == ("sticker", "9:16")

    (request,) = gemini_server.requests_of("enhance")
    assert request.model == "gemini-3-flash-preview"
    assert request.api_key == gemini_server.api_key
    assert request.prompt == body["prompt"]
    assert request.response_mime_type == "application/json"
    schema = request.response_schema or {}
    assert {"enhancedPrompt", "detectedLanguage", "rationale"} <= set(schema["properties"])
    instruction = request.system_instruction or ""
    assert "Template: Sticker" in instruction
    assert "Aspect ratio: 9:16 (tall vertical" in instruction
    assert "Reference images sent with the prompt: @logo" in instruction
    assert await usage_used(client, keys) == 0  # enhancing is never charged

    embedded = await embedded_client.post(
        "/api/v1/enhance", headers=keys.headers(), json={**body, "aspectRatio": "9:16"}
    )
    assert embedded.status_code == 200 and embedded.json()["data"]["enhancer"] == "rules"
    assert_same_shape(response.json(), embedded.json())


async def test_the_agent_keeps_aliases_it_dropped(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    gemini_server.queue(
        JsonText(
            {
                "enhancedPrompt": "A glossy ceramic mug on a marble counter.",
                "detectedLanguage": "en",
                "rationale": "Product shot.",
            }
        ),
        kind="enhance",
    )
    response = await enhance(client, keys, prompt="a mug with @logo", template="product")
    assert response.status_code == 200, response.text
    assert "@logo" in response.json()["data"]["enhancedPrompt"]


ENHANCE_FAILURES: dict[str, tuple[tuple[Behaviour, ...], int, str, str | None]] = {
    "blocked": ((BlockPrompt("PROHIBITED_CONTENT"),), 422, "CONTENT_BLOCKED", "PROHIBITED_CONTENT"),
    "finish-safety": ((FinishWithoutImage("SAFETY"),), 422, "CONTENT_BLOCKED", "SAFETY"),
    "rate-limited": ((RateLimit(retry_delay="0.1s"),) * 3, 503, "PROVIDER_ERROR", None),
    "server-error": ((ServerFailure(500),) * 3, 502, "PROVIDER_ERROR", None),
    "no-enhanced-prompt": ((JsonText({"detectedLanguage": "en"}),), 502, "PROVIDER_ERROR", None),
}


async def test_enhance_failures(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    for name, (behaviours, status, code, reason) in ENHANCE_FAILURES.items():
        gemini_server.reset()
        gemini_server.queue(*behaviours, kind="enhance")
        response = await enhance(client, keys, prompt="a cat")
        assert response.status_code == status, (name, response.text)
        error = response.json()["error"]
        assert error["code"] == code, name
        assert error.get("details") == ({"reason": reason} if reason else None), name
        assert response.headers.get("retry-after") == ("1" if status == 503 else None), name
        assert gemini_server.pending() == 0, name
    assert await usage_used(client, keys) == 0


@pytest.mark.parametrize("gemini", [{"gemini_timeout_seconds": 1.0}], indirect=True)
async def test_enhance_timeout(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    gemini_server.queue(Slow(seconds=5), kind="enhance")
    response = await enhance(client, keys, prompt="a cat")
    assert response.status_code == 504, response.text
    error = response.json()["error"]
    assert error["code"] == "PROVIDER_TIMEOUT"
    assert "within 1s" in error["message"]
