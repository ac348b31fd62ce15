"""`banatie serve` behind a same-host proxy: X-Forwarded-For is believed only from
BANATIE_TRUSTED_PROXIES, so rotating it does not escape the per-IP live limit."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.slow


def _misses(base_url: str, forwarded: list[str]) -> list[int]:
    statuses = []
    for i, address in enumerate(forwarded):
        url = f"{base_url}/cdn/default/main/live/page?prompt={quote(f'a fox number {i}')}"
        statuses.append(
            httpx.get(url, headers={"X-Forwarded-For": address}, timeout=60).status_code
        )
    return statuses


@pytest.mark.parametrize(
    "trusted, expected",
    [
        # Nobody trusted (the default): the proxy's own address is the client, whatever it says.
        (None, [200, 200, 429]),
        # Other proxies are trusted, not this peer: what it forwards is not believed.
        ("10.0.0.0/8", [200, 200, 429]),
        # The local proxy is trusted: each forwarded client has its own budget.
        ("127.0.0.1", [200, 200, 200]),
    ],
)
def test_rotating_x_forwarded_for(tmp_path: Path, trusted: str | None, expected: list[int]) -> None:
    env = {"BANATIE_LIVE_IP_RATE_LIMIT": "2/hour"}
    if trusted is not None:
        env["BANATIE_TRUSTED_PROXIES"] = trusted
    server = start_server(tmp_path / "var", free_port(), env)
    try:
        assert _misses(server.base_url, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) == (
            expected
        )
    finally:
        stop_server(server)
