"""`banatie serve` uses every core by default, and a worker loads only what it serves with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from banatie import serving
from banatie.cli import app


@pytest.mark.parametrize(
    ("workers", "cores", "threads"), [(1, 1, 1), (1, 4, 4), (2, 2, 1), (4, 2, 1), (2, 8, 4)]
)
def test_the_workers_share_the_cores_between_their_libvips_threads(
    workers: int, cores: int, threads: int
) -> None:
    assert serving.cpu_workers_per_process(workers, cores) == threads


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """`serve` up to the point where it hands over to the supervisor; the plan it hands over,
    and the environment the workers will read."""
    for name in list(os.environ):
        if name.startswith("BANATIE_") or name == "GEMINI_API_KEY":
            monkeypatch.delenv(name)
    for name in ("BANATIE_CPU_WORKERS", "BANATIE_PUBLIC_BASE_URL"):  # serve sets them
        monkeypatch.setenv(name, "")  # so that the test's end removes them again
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BANATIE_DATA_DIR", str(tmp_path / "var"))
    handed: dict[str, Any] = {}

    def hand_over(plan: serving.Plan) -> None:
        json.dumps(plan)  # it crosses exec as JSON
        handed.update(
            plan,
            cpu_workers=os.environ.get("BANATIE_CPU_WORKERS"),
            base_url=os.environ.get("BANATIE_PUBLIC_BASE_URL"),
        )

    monkeypatch.setattr(serving, "exec_supervisor", hand_over)
    monkeypatch.setattr(serving, "cpu_count", lambda: 4)
    return handed


def test_serve_starts_one_worker_per_core_by_default(served: dict[str, Any]) -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served["workers"] == 4 and served["port"] == 8123
    assert served["shutdown_timeout"] == 25  # BANATIE_SHUTDOWN_TIMEOUT_SECONDS
    assert served["cpu_workers"] == "1"  # 4 processes x 1 libvips thread = 4 cores
    assert served["base_url"] == "http://localhost:8123"
    assert "4 worker processes" in " ".join(result.output.split())


def test_serve_workers_and_cpu_workers_can_be_chosen(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANATIE_CPU_WORKERS", "3")
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert served["workers"] == 2 and served["cpu_workers"] == "3"
    served.clear()
    one = CliRunner().invoke(app, ["serve"], env={"BANATIE_WORKERS": "1"})
    assert one.exit_code == 0, one.output
    assert served["workers"] == 1 and served["cpu_workers"] == "3"
    assert "1 worker process)" in " ".join(one.output.split())


@pytest.mark.parametrize("workers", [1, 3])
def test_the_supervisor_serves_the_app_factory_on_granian(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """granian forks the workers (even one: a crashed worker is respawned), each serving the
    factory with lifespan, over HTTP/1.1, its own access lines off (banatie.access writes
    them), and kills a worker only well after the shutdown timeout."""
    from granian.server.mp import MPServer

    made: list[MPServer] = []
    monkeypatch.setattr(MPServer, "serve", lambda self: made.append(self))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setenv(serving.SUPERVISOR_ENV, "")
    serving.supervise(
        {
            "workers": workers,
            "host": "127.0.0.1",
            "port": 8123,
            "log_config": {"version": 1, "disable_existing_loggers": False},
            "shutdown_timeout": 20,
        }
    )
    [server] = made
    assert server.target == "banatie.serving:worker_app" and server.factory is True
    assert (server.bind_addr, server.bind_port, server.workers) == ("127.0.0.1", 8123, workers)
    assert str(server.interface) == "asgi" and str(server.http) == "1"
    assert server.respawn_failed_workers is True and server.log_access is False
    assert server.workers_kill_timeout == 2 * 20 + serving.KILL_MARGIN_SECONDS
    assert os.environ[serving.SUPERVISOR_ENV] == str(os.getpid())


async def _client_seen(trusted: str, peer: str, forwarded: str) -> str:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    scope = {
        "type": "http",
        "client": (peer, 5000),
        "headers": [(b"x-forwarded-for", forwarded.encode())],
    }
    await serving.wrap(inner, trusted)(scope, None, None)  # type: ignore[arg-type]
    return seen[0]


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        ("", "127.0.0.1", "198.51.100.7", "127.0.0.1"),  # nobody trusted, not even loopback
        ("10.0.0.0/8", "192.0.2.1", "198.51.100.7", "192.0.2.1"),  # an untrusted peer
        ("10.0.0.0/8", "10.1.2.3", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.1/8", "10.1.2.3", "198.51.100.7", "198.51.100.7"),  # host bits: same network
        # Read right to left past the trusted proxies: a client cannot prepend an address.
        ("10.0.0.0/8, ::1", "10.1.2.3", "6.6.6.6, 198.51.100.7, 10.9.9.9", "198.51.100.7"),
        ("*", "192.0.2.1", "198.51.100.7", "198.51.100.7"),
    ],
)
async def test_forwarded_for_is_believed_from_trusted_proxies_only(
    trusted: str, peer: str, forwarded: str, client: str
) -> None:
    assert await _client_seen(trusted, peer, forwarded) == client


def test_the_app_starts_without_the_sdks_and_numpy(tmp_path: Path) -> None:
    """Without a Gemini key and with local blobs, a worker never loads the Gemini SDK or boto3
    (about 1 s and 60 MB of each worker's start on this machine); the MCP SDK and numpy load
    with the first MCP call, generation or analysis (about 0.5 s and 50 MB)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env.pop("GEMINI_API_KEY", None)
    env["BANATIE_DATA_DIR"] = str(tmp_path)
    code = (
        "import sys\n"
        "from banatie.app import create_app\n"
        "create_app()\n"
        "heavy = ('google.genai', 'boto3', 'botocore', 'mcp', 'numpy')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
