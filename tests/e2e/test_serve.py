"""The README's first command: `banatie serve` on an empty data dir prints a key that works."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from banatie.serving import cpu_count
from tests.e2e.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.slow


def test_curl_walkthrough(tmp_path: Path) -> None:
    """Start, generate, fetch the image, restart: the key is not printed a second time."""
    port = free_port()
    server = start_server(tmp_path / "var", port)
    try:
        headers = {"X-API-Key": server.key}
        created = httpx.post(
            f"{server.base_url}/api/v1/generations",
            headers=headers,
            json={"prompt": "a red fox in a snowy forest", "aspectRatio": "16:9", "alias": "@fox"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        url = created.json()["data"]["outputImage"]["storageUrl"]
        assert url.startswith(f"http://localhost:{port}/cdn/default/main/img/")
        image = httpx.get(url.replace("localhost", "127.0.0.1"), timeout=10)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        by_alias = httpx.get(f"{server.base_url}/cdn/default/main/img/@fox", timeout=10)
        assert by_alias.content == image.content
        # The first run made organization `default`: its master key goes to the key's holder.
        bootstrap = f"{server.base_url}/api/bootstrap/initial-key"
        assert httpx.post(bootstrap, timeout=10).status_code == 401
        master = httpx.post(bootstrap, headers=headers, timeout=10)
        assert master.status_code == 201 and master.json()["data"]["type"] == "master"
        assert master.json()["data"]["organizationSlug"] == "default"
        assert httpx.post(bootstrap, headers=headers, timeout=10).status_code == 409
    finally:
        first_output = stop_server(server)
    assert server.key in first_output
    assert "It expires on " in first_output and "(90 days)" in first_output
    assert f"curl -s -X POST http://localhost:{port}/api/v1/generations" in first_output
    again = start_server(tmp_path / "var", port)
    assert "bnt_" not in stop_server(again)


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").glob("*")
        for child in (task / "children").read_text().split()
    ]


def _serves(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_serve_runs_one_worker_process_per_core_by_default(tmp_path: Path) -> None:
    port = free_port()
    server = start_server(tmp_path / "var", port, workers=None)
    try:
        workers = _children(server.process.pid)  # granian forks them from the supervisor
        assert len(workers) == cpu_count()
        assert httpx.get(f"{server.base_url}/health", timeout=10).status_code == 200
        # The supervisor (same pid as `serve`, after migrating) loaded nothing of the app:
        # neither libvips nor the app's Python packages, only the workers did.
        supervisor = Path(f"/proc/{server.process.pid}")
        assert b"banatie.serving" in (supervisor / "cmdline").read_bytes()
        mapped = (supervisor / "maps").read_text()
        assert "libvips" not in mapped and "sqlalchemy" not in mapped, mapped
        assert all("libvips" in Path(f"/proc/{pid}/maps").read_text() for pid in workers)
    finally:
        output = stop_server(server)
    processes = f"{cpu_count()} worker process"
    assert processes in " ".join(output.split())


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_crashed_worker_is_replaced_and_a_killed_server_takes_its_workers(
    tmp_path: Path,
) -> None:
    """One worker (a container's setting) is still supervised: `kill -9` of it (the OOM
    killer's choice) brings a new one on the same port; `kill -9` of `serve` leaves no worker
    behind on the port."""
    server = start_server(tmp_path / "var", free_port(), workers=1)
    try:
        [worker] = _children(server.process.pid)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while True:
            children = _children(server.process.pid)
            if children and worker not in children and _serves(server.base_url):
                break
            assert time.monotonic() < deadline, "no worker replaced the killed one"
            assert server.process.poll() is None, server.output()
            time.sleep(0.2)
        [replacement] = children
        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 10
        while Path(f"/proc/{replacement}").exists() and b"Z" not in _state(replacement):
            assert time.monotonic() < deadline, "the worker outlived its supervisor"
            time.sleep(0.05)
        assert not _serves(server.base_url)
    finally:
        output = stop_server(server)
    assert "Respawning worker-1" in output


def _state(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return b"X"
