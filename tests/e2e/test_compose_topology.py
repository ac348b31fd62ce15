"""deploy/docker-compose.yml's topology without containers: the app service's environment, as
`docker compose config` resolves it, with this machine's PostgreSQL, Redis and the S3 test server
in place of the `postgres`, `redis` and `minio` services; the `migrate` service's command, then
the replicas started all at once (as compose starts them), then Caddy with deploy/Caddyfile in
front of one of them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import httpx
import psycopg
import pytest

from tests.deploy.tools import compose_config, running_caddy
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.support.s3_server import s3_endpoint, unique_bucket_name  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def localize(environment: dict[str, str], database_url: str, s3: str) -> dict[str, str]:
    """The compose services' addresses replaced by this machine's."""
    local_db = urlsplit(database_url)
    env = dict(environment)
    compose_db = urlsplit(env["BANATIE_DATABASE_URL"])
    assert compose_db.hostname == "postgres"
    env["BANATIE_DATABASE_URL"] = urlunsplit(
        compose_db._replace(netloc=local_db.netloc, path=local_db.path)
    )
    storage = urlsplit(env["BANATIE_STORAGE_URL"])
    query = dict(parse_qsl(storage.query))
    assert urlsplit(query["endpoint"]).hostname == "minio"
    query["endpoint"] = s3
    env["BANATIE_STORAGE_URL"] = urlunsplit(storage._replace(query=urlencode(query)))
    redis = urlsplit(env["BANATIE_REDIS_URL"])
    assert redis.hostname == "redis"
    env["BANATIE_REDIS_URL"] = urlunsplit(redis._replace(netloc=f"127.0.0.1:{redis.port}"))
    env["BANATIE_LIVE_POLL_SECONDS"] = "0.05"
    return env


@pytest.fixture
def replicas(tmp_path: Path, fresh_database: str, s3_endpoint: str) -> Iterator[list[Server]]:  # noqa: F811
    bucket = unique_bucket_name("banatie-compose")
    config = compose_config(tmp_path, env={"BANATIE_BUCKET": bucket})
    services = config["services"]
    env = localize(services["app"]["environment"], fresh_database, s3_endpoint)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}

    # minio-init: the bucket; migrate: its command, to completion.
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=bucket)
    command = services["migrate"]["command"]
    assert command[0] == "banatie"
    migrated = subprocess.run(
        [sys.executable, "-m", "banatie.cli", *command[1:]],
        env={**base_env, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    count = services["app"]["deploy"]["replicas"]
    started: list[Server] = []
    try:
        with ThreadPoolExecutor(count) as pool:
            starting = []
            for index in range(count):
                data_dir = tmp_path / f"replica-{index}" / "var"
                data_dir.parent.mkdir()
                starting.append(
                    pool.submit(start_server, data_dir, free_port(), env, port_env=True)
                )
            for future in starting:
                if future.exception() is None:
                    started.append(future.result())
            for future in starting:
                future.result()
        yield started
    finally:
        for server in started:
            output = stop_server(server)
            if os.environ.get("BANATIE_TEST_VERBOSE"):
                print(output)


def test_replicas_share_state_as_in_compose(
    replicas: list[Server], fresh_database: str, tmp_path: Path
) -> None:
    assert len(replicas) == 2
    first, second = replicas
    # Both started at once on the migrated database: one of them made the first-run key.
    keys = [server.key for server in replicas if server.key]
    assert len(keys) == 1
    with psycopg.connect(fresh_database) as db:
        assert db.execute("SELECT count(*) FROM api_keys").fetchone() == (1,)
    headers = {"X-API-Key": keys[0]}

    # A generation made through one replica is served by the other (S3 + PostgreSQL).
    created = httpx.post(
        f"{first.base_url}/api/v1/generations",
        headers=headers,
        json={"prompt": "a harbour at dawn", "aspectRatio": "4:3", "alias": "@harbour"},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    image = created.json()["data"]["outputImage"]
    path = urlsplit(image["storageUrl"]).path
    from_first = httpx.get(f"{first.base_url}{path}", timeout=30)
    from_second = httpx.get(f"{second.base_url}{path}", timeout=30)
    assert from_second.status_code == 200 and from_second.content == from_first.content
    by_alias = httpx.get(f"{second.base_url}/cdn/default/main/img/@harbour", timeout=30)
    assert by_alias.content == from_first.content
    listed = httpx.get(
        f"{second.base_url}/api/v1/images/{image['id']}", headers=headers, timeout=30
    )
    assert listed.status_code == 200 and listed.json()["data"]["id"] == image["id"]

    # A live URL missed on both replicas at once generates once (single-flight across them).
    query = "prompt=a+lighthouse+in+the+compose+topology&aspectRatio=16:9"
    urls = [f"{server.base_url}/cdn/default/main/live/compose?{query}" for server in replicas]

    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=120, limits=limits) as http:
            return await asyncio.gather(*(http.get(urls[i % 2]) for i in range(40)))

    responses = asyncio.run(burst())
    assert {r.status_code for r in responses} == {200}, {r.text[:200] for r in responses}
    assert len({r.headers["x-image-id"] for r in responses}) == 1
    with psycopg.connect(fresh_database) as db:
        assert db.execute("SELECT count(*) FROM generations").fetchone() == (2,)
        assert db.execute("SELECT status FROM live_entries").fetchall() == [("ready",)]

    # The proxy: deploy/Caddyfile with this machine's replica as its upstream.
    check_proxy_in_front_of(second, tmp_path)


def check_proxy_in_front_of(replica: Server, tmp_path: Path) -> None:
    """deploy/Caddyfile run by Caddy, its upstream this replica instead of the `app` service."""
    upstream = urlsplit(replica.base_url)
    assert upstream.hostname is not None and upstream.port is not None
    with running_caddy(tmp_path, upstream.hostname, upstream.port) as base:
        health = httpx.get(f"{base}/health", timeout=10)
        assert health.status_code == 200 and health.json()["checks"]["database"] == "ok"
        closed = httpx.post(f"{base}/api/bootstrap/initial-key", timeout=10)
        assert closed.status_code == 403
        assert closed.json()["error"]["code"] == "FORBIDDEN"
        info = httpx.get(f"{base}/api/info", timeout=10)
        assert info.status_code == 200 and info.json()["data"]["database"] == "postgresql"
        # The replica's metrics stay on the private network.
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 404
        assert httpx.get(f"{replica.base_url}/metrics", timeout=10).status_code == 200
