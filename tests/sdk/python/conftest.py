"""One real `banatie serve` for the whole Python SDK package (SQLite, local synthesizer), with a
second project whose plan rate-limits it hard and a third whose allowance is used up."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
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


def _cli(data_dir: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env["BANATIE_DATA_DIR"] = str(data_dir)
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
