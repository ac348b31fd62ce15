"""`banatie serve` with only a Gemini key (and the wire-format server as its endpoint) whose model
list holds names this code has never seen: the log says which models were chosen, and a
generation, an enhancement and an analysis run on them."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.support.gemini_server import running_gemini_server

NEVER_SEEN = ("gemini-9-flash", "gemini-9-flash-lite", "gemini-9-flash-image", "gemini-8-pro")


def test_serve_resolves_and_uses_models_it_has_never_seen(tmp_path: Path) -> None:
    with running_gemini_server(api_key="AIza-e2e", models=NEVER_SEEN) as gemini:
        server = start_server(
            tmp_path / "var",
            free_port(),
            {"BANATIE_GEMINI_API_KEY": "AIza-e2e", "BANATIE_GEMINI_BASE_URL": gemini.base_url},
        )
        try:
            headers = {"X-API-Key": server.key}
            created = httpx.post(
                f"{server.base_url}/api/v1/generations",
                headers=headers,
                json={"prompt": "a lighthouse in a storm", "aspectRatio": "4:1"},
                timeout=60,
            )
            enhanced = httpx.post(
                f"{server.base_url}/api/v1/enhance",
                headers=headers,
                json={"prompt": "un phare"},
                timeout=60,
            )
        finally:
            output = stop_server(server)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["model"] == "gemini-9-flash-image"
    assert (data["outputImage"]["width"], data["outputImage"]["height"]) == (2048, 512)
    assert data["outputImage"]["analyzer"] == "gemini"
    assert enhanced.status_code == 200 and enhanced.json()["data"]["enhancer"] == "gemini"
    assert "Gemini image model: gemini-9-flash-image (newest listed" in output
    assert "Gemini text model: gemini-9-flash (newest listed" in output
    assert "AIza-e2e" not in output
