"""SIGTERM to `banatie serve` (a rolling deploy, `docker stop`, a scale-down): it stops
accepting at once, lets the requests in flight finish within BANATIE_SHUTDOWN_TIMEOUT_SECONDS,
and what the timeout cuts short is given back at once — its generations failed
(`INTERRUPTED`, nothing charged) and its live claims released, so another replica serves
the waiting visitor without waiting for a heartbeat to go stale."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from banatie.accounts.first_run import ensure_first_run
from banatie.db import migrate
from banatie.settings import Settings
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.support.gemini_server import GeminiServer, Slow, running_gemini_server

pytestmark = pytest.mark.slow

LIVE = "/cdn/default/main/live/blog?prompt=a+lighthouse+at+dusk"


def _gemini_env(gemini: GeminiServer) -> dict[str, str]:
    return {
        "BANATIE_GEMINI_API_KEY": "AIza-e2e",
        "BANATIE_GEMINI_BASE_URL": gemini.base_url,
        "BANATIE_GEMINI_TIMEOUT_SECONDS": "300",
        "BANATIE_FREE_RATE_LIMIT": "1000/minute",
    }


def _wait_until_in_flight(gemini: GeminiServer) -> None:
    deadline = time.monotonic() + 60
    while gemini.pending():  # each slow answer taken: the calls are at the image model
        assert time.monotonic() < deadline, "the requests did not reach the image model"
        time.sleep(0.05)


def _refuses_connections(server: Server, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{server.base_url}/health", timeout=0.5)
        except httpx.ConnectError:
            return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


def test_sigterm_lets_a_slow_generation_finish(tmp_path: Path) -> None:
    with running_gemini_server(api_key="AIza-e2e") as gemini:
        env = {**_gemini_env(gemini), "BANATIE_SHUTDOWN_TIMEOUT_SECONDS": "60"}
        server = start_server(tmp_path / "var", free_port(), env)
        try:
            gemini.queue(Slow(seconds=4), kind="image")
            with ThreadPoolExecutor(1) as pool:
                posted = pool.submit(
                    httpx.post,
                    f"{server.base_url}/api/v1/generations",
                    headers={"X-API-Key": server.key},
                    json={"prompt": "a slow fox", "autoEnhance": False},
                    timeout=60,
                )
                _wait_until_in_flight(gemini)
                server.process.send_signal(signal.SIGTERM)
                # New connections are refused at once (a load balancer moves on) ...
                assert _refuses_connections(server, within=3)
                # ... while the generation in flight completes and is answered.
                response = posted.result()
            assert response.status_code == 201, response.text
            assert response.json()["data"]["status"] == "success"
            # A signalled stop ends by the signal itself (status 143 in a shell).
            assert server.process.wait(timeout=30) == -signal.SIGTERM
        finally:
            output = stop_server(server)
    assert "new connections are refused; requests in flight have 60 s to finish" in output
    assert "Cancelling" not in output  # it finished within the timeout


@pytest.mark.postgres
def test_work_cut_short_by_the_timeout_is_given_back_at_once(
    tmp_path: Path, fresh_database: str
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=fresh_database,
        data_dir=tmp_path,
    )
    migrate.upgrade(settings.resolved_database_url)
    first = asyncio.run(ensure_first_run(settings))
    assert first is not None
    headers = {"X-API-Key": first.key}
    with running_gemini_server(api_key="AIza-e2e") as gemini:
        env = {
            **_gemini_env(gemini),
            "BANATIE_DATABASE_URL": fresh_database,
            "BANATIE_STORAGE_URL": f"file://{tmp_path / 'shared-blobs'}",
            "BANATIE_LIVE_POLL_SECONDS": "0.05",
            "BANATIE_LIVE_OWNER_IPS": "127.0.0.0/8",
        }
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        # A stops within a second of SIGTERM; B beats (and sweeps) only every 100 s, so only
        # A's own hand-over can explain work recovered at once.
        a = start_server(
            tmp_path / "a" / "var",
            free_port(),
            {**env, "BANATIE_SHUTDOWN_TIMEOUT_SECONDS": "1", "BANATIE_LOG_FORMAT": "json"},
        )
        b = start_server(
            tmp_path / "b" / "var", free_port(), {**env, "BANATIE_WORK_STALE_SECONDS": "600"}
        )
        pool = ThreadPoolExecutor(3)
        try:
            gemini.queue(Slow(seconds=120), Slow(seconds=120), kind="image")
            pool.submit(
                httpx.post,
                f"{a.base_url}/api/v1/generations",
                headers=headers,
                json={"prompt": "a fox cut short", "autoEnhance": False},
                timeout=120,
            )
            pool.submit(httpx.get, a.base_url + LIVE, timeout=120)
            _wait_until_in_flight(gemini)
            # A visitor of the same live URL on B waits for A's generation (single-flight).
            waiting = pool.submit(httpx.get, b.base_url + LIVE, timeout=120)
            time.sleep(1)
            assert not waiting.done()

            stopped = time.monotonic()
            a.process.send_signal(signal.SIGTERM)
            assert a.process.wait(timeout=30) == -signal.SIGTERM
            assert time.monotonic() - stopped < 15  # not the model's 120 s

            # B serves the waiting visitor: A's claim was given back, not left to go stale.
            image = waiting.result(timeout=30)
            assert image.status_code == 200, image.text
            assert time.monotonic() - stopped < 20  # a stale claim takes 60 s

            listed = httpx.get(
                f"{b.base_url}/api/v1/generations?limit=10", headers=headers, timeout=30
            ).json()["data"]
            cut = [g for g in listed if g["originalPrompt"] == "a fox cut short"]
            assert [(g["status"], g["errorCode"]) for g in cut] == [("failed", "INTERRUPTED")]
            succeeded = sum(g["status"] == "success" for g in listed)
            usage = httpx.get(f"{b.base_url}/api/v1/usage", headers=headers, timeout=30)
            assert usage.json()["data"]["used"] == succeeded  # A's cut-short work is not charged
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if a.process.poll() is None:
                a.process.kill()
            output = stop_server(a)
            stop_server(b)
    # A's access line says what happened to the request the timeout cut short.
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    (cut_short,) = [r for r in records if r.get("route") == "/api/v1/generations"]
    assert cut_short["status"] == 499
    assert any(r["message"].startswith("Cancelling 2 request(s)") for r in records), records
