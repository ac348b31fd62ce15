"""A real `banatie serve` process on a fresh data dir, for tests that need a running server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    key: str
    process: subprocess.Popen[str]
    log_path: Path

    def output(self) -> str:
        """Everything the process printed so far (a file, never a pipe: an unread pipe fills
        and blocks a chatty server mid-request)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_server(
    data_dir: Path,
    port: int,
    extra_env: dict[str, str] | None = None,
    *,
    port_env: bool = False,
    workers: int | None = 1,
) -> Server:
    """`banatie serve` on `port`, given as `--port` or, with `port_env`, as PORT (containers);
    `workers=None`: as many worker processes as `serve` chooses (one per core)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env["BANATIE_DATA_DIR"] = str(data_dir)
    env["BANATIE_FIRST_RUN_KEY_FILE"] = str(data_dir / "first-run-key.txt")
    # One process (the default is one per core): a test that kills the server kills all of it,
    # and what one request changed is what the next sees. Several processes: test_serve.py.
    if workers is not None:
        env["BANATIE_WORKERS"] = str(workers)
    env.update(extra_env or {})
    if port_env:
        env["PORT"] = str(port)
    log_path = data_dir.parent / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "banatie.cli",
                "serve",
                *([] if port_env else ["--port", str(port)]),
            ],
            env=env,
            cwd=data_dir.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded 2-core machine imports the app slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("server exited: " + log_path.read_text(errors="replace"))
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                key_file = data_dir / "first-run-key.txt"
                key = key_file.read_text().strip() if key_file.exists() else ""
                return Server(base, key, process, log_path)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not start within 120 s")


def stop_server(server: Server) -> str:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    return server.output()


@pytest.fixture(scope="session")
def running_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("server") / "var", free_port())
    yield server
    stop_server(server)
