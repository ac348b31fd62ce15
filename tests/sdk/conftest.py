"""One real `banatie serve` (SQLite, local synthesizer) for the tests of both SDKs, with a second
project whose plan rate-limits it hard and a third whose allowance is used up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, free_port, start_server, stop_server

SIGNING_KEY = "sdk-test-delivery-signing-key"


@dataclass(frozen=True)
class SdkServer:
    base_url: str
    key: str  # project `main` of organization `default`
    throttled_key: str  # a project on a plan of one request per 3 seconds
    exhausted_key: str  # a project whose monthly allowance is 0
    server: Server


def _cli(data_dir: Path, *args: str, extra_env: Mapping[str, str] | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env["BANATIE_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    subprocess.run(
        [sys.executable, "-m", "banatie.cli", *args], env=env, check=True, capture_output=True
    )


def _project_key(base: str, master: str, project: str, plan: str) -> str:
    headers = {"X-API-Key": master}
    created = httpx.post(
        f"{base}/api/admin/keys",
        headers=headers,
        json={"type": "project", "projectSlug": project, "name": "sdk tests"},
    )
    assert created.status_code == 201, created.text
    moved = httpx.put(
        f"{base}/api/admin/projects/{project}/plan", headers=headers, json={"plan": plan}
    )
    assert moved.status_code == 200, moved.text
    return str(created.json()["data"]["key"])


@pytest.fixture(scope="package")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkServer]:
    data_dir = tmp_path_factory.mktemp("sdk-server") / "var"
    server = start_server(
        data_dir,
        free_port(),
        {
            "BANATIE_FREE_RATE_LIMIT": "1000/minute",
            "BANATIE_FREE_MONTHLY_GENERATIONS": "100000",
            "BANATIE_DELIVERY_SIGNING_KEY": SIGNING_KEY,
        },
    )
    try:
        _cli(data_dir, "plans", "set", "slow", "--rate-limit", "1/3 seconds")
        _cli(data_dir, "plans", "set", "empty", "--monthly-generations", "0")
        boot = httpx.post(
            f"{server.base_url}/api/bootstrap/initial-key", headers={"X-API-Key": server.key}
        )
        assert boot.status_code == 201, boot.text
        master = boot.json()["data"]["key"]
        yield SdkServer(
            base_url=server.base_url,
            key=server.key,
            throttled_key=_project_key(server.base_url, master, "throttled", "slow"),
            exhausted_key=_project_key(server.base_url, master, "exhausted", "empty"),
            server=server,
        )
    finally:
        stop_server(server)


ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "sdk" / "js"


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; its output, or a failure that shows what it printed."""
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    tail = f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{tail}"
    return done.stdout


def npm() -> str:
    found = shutil.which("npm")
    assert found, "npm is missing: install Node.js 18+ (apt-get install nodejs npm)"
    return found


def sdk_env(server: SdkServer) -> dict[str, str]:
    """What the SDKs and snippets read: the server, its key, and the test projects' keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env.update(
        BANATIE_BASE_URL=server.base_url,
        BANATIE_API_KEY=server.key,
        BANATIE_ORGANIZATION="default",
        BANATIE_PROJECT="main",
        BANATIE_DELIVERY_SIGNING_KEY=SIGNING_KEY,
        BANATIE_TEST_THROTTLED_KEY=server.throttled_key,
        BANATIE_TEST_EXHAUSTED_KEY=server.exhausted_key,
    )
    return env


@pytest.fixture(scope="package")
def js_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of sdk/js where `npm ci` installs the lock file's TypeScript and builds the SDK
    (its `prepare` script), as in a fresh clone. A copy per test process: `npm ci` empties
    node_modules first, so two xdist workers sharing the checkout's folder break each other."""
    folder = tmp_path_factory.mktemp("js-sdk") / "js"
    shutil.copytree(JS, folder, ignore=shutil.ignore_patterns("node_modules", "dist", "*.tgz"))
    run([npm(), "ci", "--no-audit", "--no-fund"], folder)
    assert (folder / "dist" / "index.d.ts").exists()
    return folder


@pytest.fixture(scope="package")
def js_app(js_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app folder with `npm pack`'s tarball installed, as a user of @banatie/sdk has it."""
    folder = tmp_path_factory.mktemp("js-app")
    pack = run([npm(), "pack", "--pack-destination", str(folder)], js_built)
    tarball = folder / pack.strip().splitlines()[-1]
    (folder / "package.json").write_text('{"name": "app", "type": "module", "private": true}')
    run([npm(), "install", "--no-audit", "--no-fund", str(tarball)], folder)
    return folder


@pytest.fixture(scope="package")
def clean_sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install ./sdk/python` into a new virtual environment, as the README says: the
    Python of that environment (which has nothing of the server)."""
    folder = tmp_path_factory.mktemp("sdk-venv")
    # A copy of the checkout's sdk/python: building writes build/ next to the sources.
    shutil.copytree(
        ROOT / "sdk" / "python",
        folder / "sdk" / "python",
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    run([sys.executable, "-m", "venv", "venv"], folder, outside_env())
    python = folder / "venv" / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", "./sdk/python"], folder, outside_env())
    return python


def outside_env() -> dict[str, str]:
    """The environment of a user's shell: nothing of this checkout's Python path or settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BANATIE_") and k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    }
