"""The soak's topology: two `banatie serve` processes (one worker each, so every process's
memory is its own line) on a fresh PostgreSQL database, Redis and moto's S3 server (a separate
process, so the load generator's CPU is not the store's)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg

from bench.delivery.harness import wait_http
from bench.delivery.servers import Server, free_port, spawn

S3_KEY = "soak"


@dataclass
class Topology:
    replicas: list[Server]
    key: str
    database_url: str


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    name = f"banatie_soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def s3_server(workdir: Path) -> Iterator[str]:
    """moto's S3 server on a free port, with a bucket; yields the storage URL."""
    port = free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_KEY}
    log = workdir / "moto.log"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{endpoint}/moto-api/", timeout=60)
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_KEY,
        ).create_bucket(Bucket="soak")
        yield (
            f"s3://soak?endpoint={endpoint}&region=us-east-1"
            f"&access_key_id={S3_KEY}&secret_access_key={S3_KEY}"
        )
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def _env(data_dir: Path, port: int, shared: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env.update(shared)
    env.update(
        BANATIE_DATA_DIR=str(data_dir),
        BANATIE_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        BANATIE_FIRST_RUN_KEY_FILE=str(data_dir / "first-run-key.txt"),
        BANATIE_WORKERS="1",
    )
    return env


@contextmanager
def replicas(
    workdir: Path, database_url: str, storage_url: str, redis_url: str
) -> Iterator[Topology]:
    shared = {
        "BANATIE_DATABASE_URL": database_url,
        "BANATIE_STORAGE_URL": storage_url,
        "BANATIE_REDIS_URL": redis_url,
        "BANATIE_LOG_LEVEL": "WARNING",
        "BANATIE_FIRST_RUN_ORGANIZATION": "soak",
        "BANATIE_FIRST_RUN_PROJECT": "main",
        # The soak measures the server, not the Free plan's limits.
        "BANATIE_FREE_MONTHLY_GENERATIONS": "100000000",
        "BANATIE_FREE_RATE_LIMIT": "1000000/minute",
        "BANATIE_FREE_STORAGE_MB": "1000000",
        "BANATIE_LIVE_SCOPE_GENERATIONS_LIMIT": "100000000",
        "BANATIE_MAX_VARIANTS_PER_IMAGE": "0",
    }
    started: list[Server] = []
    try:
        for name in ("a", "b"):  # one after the other: the first migrates and makes the key
            data_dir = workdir / name / "var"
            data_dir.mkdir(parents=True)
            port = free_port()
            command = [sys.executable, "-m", "banatie.cli", "serve", "--port", str(port)]
            log = workdir / f"serve-{name}.log"
            started.append(
                spawn(f"replica-{name}", command, _env(data_dir, port, shared), port, log=log)
            )
        key = (workdir / "a" / "var" / "first-run-key.txt").read_text().strip()
        yield Topology(started, key, database_url)
    finally:
        for server in started:
            server.stop()
