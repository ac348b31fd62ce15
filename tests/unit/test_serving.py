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
    assert served["workers"] == 4 and served["options"]["port"] == 8123
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
def test_the_supervisor_serves_the_app_factory(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several workers: uvicorn supervises them; one: this process serves (no supervisor)."""
    import uvicorn

    calls: list[tuple[object, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    serving.supervise({"workers": workers, "options": {"port": 8123}})
    [(target, options)] = calls
    assert target == "banatie.app:create_app" and options["factory"] is True
    assert options["port"] == 8123
    assert options.get("workers") == (workers if workers > 1 else None)


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
