"""`kill -9` of `banatie serve` mid-burst: the next process marks every generation it left
failed (INTERRUPTED), releases their reservations, serves the live URL that was pending without
making its visitor wait, and `banatie gc` deletes the blob a crash left without a row."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.conftest import free_port, start_server, stop_server
from tests.support.gemini_server import Slow, running_gemini_server

BURST = 8


def _post(base: str, key: str, prompt: str) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
        httpx.post(
            f"{base}/api/v1/generations",
            headers={"X-API-Key": key},
            json={"prompt": prompt, "autoEnhance": False},
            timeout=120,
        )


def _get(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=120)


def test_kill_9_mid_burst_is_recovered_by_the_next_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    with running_gemini_server(api_key="AIza-e2e") as gemini:
        env = {
            "BANATIE_GEMINI_API_KEY": "AIza-e2e",
            "BANATIE_GEMINI_BASE_URL": gemini.base_url,
            "BANATIE_GEMINI_TIMEOUT_SECONDS": "300",
            "BANATIE_FREE_RATE_LIMIT": "1000/minute",
        }
        first = start_server(data_dir, free_port(), env)
        try:
            key = first.key
            live = "/cdn/default/main/live/blog?prompt=a+lighthouse+at+dusk"
            # Every image request hangs: the whole burst (and one live URL) is in flight.
            gemini.queue(*[Slow(seconds=120) for _ in range(BURST + 1)], kind="image")
            pool = ThreadPoolExecutor(BURST + 1)
            for n in range(BURST):
                pool.submit(_post, first.base_url, key, f"a fox number {n}")
            pool.submit(_get, first.base_url + live)
            deadline = time.monotonic() + 60
            while gemini.pending():  # each hanging answer taken: every generation is in flight
                assert time.monotonic() < deadline, "the burst did not reach the image model"
                time.sleep(0.05)
            # A blob whose row was never committed (the crash of an earlier burst), an hour old.
            orphan = (
                data_dir / "blobs" / "default" / "main" / "img" / str(uuid.uuid4()) / "__blob__"
            )
            orphan.parent.mkdir(parents=True)
            orphan.write_bytes(b"image/png\n" + b"\x89PNG" + b"0" * 100)
            old = time.time() - 2 * 3600
            os.utime(orphan, (old, old))

            first.process.kill()  # SIGKILL: nothing of it runs any more
            first.process.wait()
            pool.shutdown(wait=True)
        finally:  # a failure above must not leave it running
            if first.process.poll() is None:
                first.process.kill()
                first.process.wait()

        second = start_server(data_dir, free_port(), env)
        headers = {"X-API-Key": key}
        try:
            began = time.monotonic()
            while True:
                listed = httpx.get(
                    f"{second.base_url}/api/v1/generations?limit=100", headers=headers, timeout=30
                ).json()["data"]
                if all(g["status"] != "processing" for g in listed):
                    break
                assert time.monotonic() - began < 60, "generations still processing after 60 s"
                time.sleep(0.2)
            assert len(listed) == BURST + 1
            assert {(g["status"], g["errorCode"]) for g in listed} == {("failed", "INTERRUPTED")}
            usage = httpx.get(f"{second.base_url}/api/v1/usage", headers=headers, timeout=30)
            assert usage.json()["data"]["used"] == 0  # reservations released at once

            regenerated = httpx.post(
                f"{second.base_url}/api/v1/generations/{listed[0]['id']}/regenerate",
                headers=headers,
                timeout=60,
            )
            assert regenerated.status_code == 200, regenerated.text
            assert regenerated.json()["data"]["status"] == "success"

            asked = time.monotonic()
            image = httpx.get(second.base_url + live, timeout=60)
            assert image.status_code == 200, image.text
            assert time.monotonic() - asked < 15  # not the old claim's 60 s heartbeat timeout

            collected = subprocess.run(
                [sys.executable, "-m", "banatie.cli", "gc"],
                env={
                    **{k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")},
                    "BANATIE_DATA_DIR": str(data_dir),
                },
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert collected.returncode == 0, collected.stdout + collected.stderr
            assert "deleted 1 orphan blob(s)" in collected.stdout, collected.stdout
            assert not orphan.exists()
            kept = regenerated.json()["data"]["outputImage"]["id"]
            served = httpx.get(f"{second.base_url}/cdn/default/main/img/{kept}", timeout=30)
            assert served.status_code == 200
        finally:
            stop_server(second)
