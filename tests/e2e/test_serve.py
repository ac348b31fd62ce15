"""The README's first command: `banatie serve` on an empty data dir prints a key that works."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_curl_walkthrough(tmp_path: Path) -> None:
    """Start, generate, fetch the image, restart: the key is not printed a second time."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env["BANATIE_DATA_DIR"] = str(tmp_path / "var")
    env["BANATIE_FIRST_RUN_KEY_FILE"] = str(tmp_path / "key.txt")
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "banatie.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                time.sleep(0.2)
        process.kill()
        raise AssertionError("server did not start")

    process = start()
    try:
        key = (tmp_path / "key.txt").read_text().strip()
        created = httpx.post(
            f"{base}/api/v1/generations",
            headers={"X-API-Key": key},
            json={"prompt": "a red fox in a snowy forest", "aspectRatio": "16:9", "alias": "@fox"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        url = created.json()["data"]["outputImage"]["storageUrl"]
        assert url.startswith(f"http://localhost:{port}/cdn/default/main/img/")
        image = httpx.get(url.replace("localhost", "127.0.0.1"), timeout=10)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        by_alias = httpx.get(f"{base}/cdn/default/main/img/@fox", timeout=10)
        assert by_alias.content == image.content
    finally:
        process.terminate()
        first_output, _ = process.communicate(timeout=10)
    assert key in first_output
    assert f"curl -s -X POST http://localhost:{port}/api/v1/generations" in first_output
    process = start()
    process.terminate()
    second_output, _ = process.communicate(timeout=10)
    assert "bnt_" not in second_output
