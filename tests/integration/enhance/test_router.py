"""`POST /api/v1/enhance` with the embedded (rule-based) enhancer, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from banatie.settings import Settings
from tests.conftest import Keys, app_settings


@pytest.fixture
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Settings:
    """The shared settings; a test may pass another Free rate limit as an indirect param."""
    return app_settings(
        database_url,
        tmp_path,
        free_rate_limit=getattr(request, "param", "10/minute"),
    )


async def enhance(client: httpx.AsyncClient, keys: Keys, **body: object) -> httpx.Response:
    return await client.post("/api/v1/enhance", headers=keys.headers(), json=body)


async def test_enhances_with_the_embedded_enhancer(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await enhance(
        client, keys, prompt="  a coffee mug with @logo  ", template="product", aspectRatio="4:5"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {
        "enhancedPrompt",
        "originalPrompt",
        "detectedLanguage",
        "rationale",
        "enhancer",
        "template",
        "aspectRatio",
    }
    assert data["originalPrompt"] == "a coffee mug with @logo"
    assert data["enhancedPrompt"].startswith("a coffee mug with @logo")
    assert "studio softbox lighting" in data["enhancedPrompt"]  # the product template
    assert "Portrait 4:5 composition" in data["enhancedPrompt"]
    assert data["detectedLanguage"] == "en"
    assert data["rationale"]
    assert data["enhancer"] == "rules"
    assert (data["template"], data["aspectRatio"]) == ("product", "4:5")
    # Rate limited like generations (headers), never charged.
    assert response.headers["x-ratelimit-limit"] == "10"
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 0


async def test_defaults_and_language_detection(client: httpx.AsyncClient, keys: Keys) -> None:
    data = (await enhance(client, keys, prompt="рыжая лиса в заснеженном лесу")).json()["data"]
    assert (data["template"], data["aspectRatio"]) == ("general", "1:1")
    assert data["detectedLanguage"] == "ru"
    assert data["enhancedPrompt"].startswith("рыжая лиса в заснеженном лесу")


async def test_same_enhancement_as_auto_enhance(client: httpx.AsyncClient, keys: Keys) -> None:
    """What /enhance returns is what a generation would send to the image model."""
    enhanced = await enhance(
        client, keys, prompt="a red kite", template="comic", aspectRatio="16:9"
    )
    generation = await client.post(
        "/api/v1/generations",
        headers=keys.headers(),
        json={"prompt": "a red kite", "template": "comic", "aspectRatio": "16:9"},
    )
    assert generation.status_code == 201, generation.text
    assert enhanced.json()["data"]["enhancedPrompt"] == generation.json()["data"]["prompt"]


VALIDATION_CASES: list[tuple[dict[str, object], str]] = [
    ({"prompt": "   "}, "prompt must not be empty"),
    ({"prompt": "x" * 5001}, "prompt is 5001 characters; the limit is 5000"),
    ({"prompt": "a cat", "template": "anime"}, "template 'anime' is not supported"),
    ({"prompt": "a cat", "aspectRatio": "2:1"}, "aspectRatio '2:1' is not supported"),
    ({}, "prompt: Field required"),
    ({"prompt": 42}, "prompt: Input should be a valid string"),
    ({"prompt": "a cat", "autoEnhance": True}, "autoEnhance: Extra inputs are not permitted"),
]


async def test_validation_errors(client: httpx.AsyncClient, keys: Keys) -> None:
    for body, message in VALIDATION_CASES:
        response = await client.post("/api/v1/enhance", headers=keys.headers(), json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", body
        assert message in error["message"], (body, error["message"])


async def test_needs_a_project_key(client: httpx.AsyncClient, keys: Keys) -> None:
    missing = await client.post("/api/v1/enhance", json={"prompt": "a cat"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "UNAUTHORIZED"
    master = await client.post(
        "/api/v1/enhance", headers=keys.headers("master"), json={"prompt": "a cat"}
    )
    assert master.status_code == 403
    assert master.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("settings", ["3/minute"], indirect=True)
async def test_rate_limited_with_generations(client: httpx.AsyncClient, keys: Keys) -> None:
    """Enhancements and generations share the project's request rate."""
    statuses = [(await enhance(client, keys, prompt=f"cat {i}")).status_code for i in range(2)]
    assert statuses == [200, 200]
    generated = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a cat"}
    )
    assert generated.status_code == 201
    refused = await enhance(client, keys, prompt="one too many")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(refused.headers["retry-after"]) > 0
