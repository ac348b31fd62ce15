"""The image model's refusals through MCP: a blocked prompt, a rejected request and a rate
limit the provider asks us to wait out come back as tool errors with the code, status, message
and Retry-After the REST route gives for the same answer (a real `banatie serve` whose Gemini
adapter talks to the local Gemini wire-format server)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.integration.mcp.conftest import connect
from tests.integration.mcp.test_http import error
from tests.support.gemini_server import (
    Behaviour,
    BlockPrompt,
    ClientFailure,
    GeminiServer,
    RateLimit,
    running_gemini_server,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class GeminiBacked:
    base_url: str
    key: str
    gemini: GeminiServer


@pytest.fixture(scope="module")
def gemini_backed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeminiBacked]:
    with running_gemini_server(api_key="AIza-mcp") as gemini:
        server = start_server(
            tmp_path_factory.mktemp("mcp-gemini") / "var",
            free_port(),
            {
                "BANATIE_GEMINI_API_KEY": "AIza-mcp",
                "BANATIE_GEMINI_BASE_URL": gemini.base_url,
                "BANATIE_FREE_RATE_LIMIT": "1000/minute",
            },
        )
        try:
            yield GeminiBacked(server.base_url, server.key, gemini)
        finally:
            stop_server(server)


def _rest_error(backed: GeminiBacked, prompt: str) -> httpx.Response:
    return httpx.post(
        f"{backed.base_url}/api/v1/generations",
        headers={"X-API-Key": backed.key},
        json={"prompt": prompt, "autoEnhance": False},
        timeout=120,
    )


@pytest.mark.parametrize(
    ("behaviour", "status", "code"),
    [
        (BlockPrompt("PROHIBITED_CONTENT"), 422, "CONTENT_BLOCKED"),
        (ClientFailure(), 502, "PROVIDER_ERROR"),
        (RateLimit(retry_delay="45s"), 503, "PROVIDER_ERROR"),  # too long to wait: not retried
    ],
    ids=["content-blocked", "request-rejected", "provider-rate-limit"],
)
async def test_model_refusals_are_tool_errors_like_rest(
    gemini_backed: GeminiBacked, behaviour: Behaviour, status: int, code: str
) -> None:
    gemini = gemini_backed.gemini
    gemini.queue(behaviour, kind="image")
    async with connect(f"{gemini_backed.base_url}/mcp", gemini_backed.key) as client:
        by_mcp = error(
            await client.call_tool("generate_image", {"prompt": "a fox", "autoEnhance": False})
        )
    gemini.queue(behaviour, kind="image")
    answer = _rest_error(gemini_backed, "a fox")
    by_rest = answer.json()["error"]
    assert (by_mcp["status"], by_mcp["code"]) == (answer.status_code, by_rest["code"])
    assert (by_mcp["status"], by_mcp["code"]) == (status, code)
    assert by_mcp["message"] == by_rest["message"]
    assert by_mcp.get("details") == by_rest.get("details")
    retry_after = answer.headers.get("retry-after")
    assert by_mcp.get("retryAfter") == (int(retry_after) if retry_after else None)
