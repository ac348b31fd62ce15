"""A dependency down is a 503 with a stable code and Retry-After, never a 500: Redis (the rate
limiter: refused or let through by BANATIE_RATE_LIMIT_ON_ERROR), the database (and `/health`
says so) and S3 (reads refused; an image delete completes and its blobs go once S3 is back)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from sqlalchemy import select, update

from banatie.app import create_app
from banatie.recovery.deletions import drain
from banatie.recovery.models import BlobDeletion
from banatie.runtime import Runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.images import solid_png
from tests.support.s3_server import s3_storage_url, unique_bucket_name

LIVE = "/cdn/acme/site/live/blog?prompt=a+red+kite"
JSON = {"Accept": "application/json"}


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


def unavailable(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text[:300]
    assert response.json()["error"]["code"] == code
    assert int(response.headers["retry-after"]) > 0


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await app.state.runtime.close()


@pytest.mark.parametrize("on_error", ["closed", "open"])
async def test_redis_down(settings: Settings, keys: Keys, closed_port: int, on_error: str) -> None:
    down = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{closed_port}/0", "rate_limit_on_error": on_error}
    )
    async with serving(down) as client:
        created = await client.post(
            "/api/v1/generations", headers=keys.headers(), json={"prompt": "a red kite"}
        )
        live = await client.get(LIVE, headers=JSON)
        listed = await client.get("/api/v1/generations", headers=keys.headers())
    if on_error == "closed":  # refused, and nothing was started or charged
        unavailable(created, "RATE_LIMITER_UNAVAILABLE")
        unavailable(live, "RATE_LIMITER_UNAVAILABLE")
        assert listed.json()["pagination"]["total"] == 0
    else:  # served uncounted
        assert created.status_code == 201, created.text
        assert live.status_code == 200, live.text
        assert listed.json()["pagination"]["total"] == 2


async def test_database_down(tmp_path: Path, closed_port: int) -> None:
    down = Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        database_url=f"postgresql://postgres@127.0.0.1:{closed_port}/banatie",
        public_base_url="http://testserver",
    )
    async with serving(down) as client:
        health = await client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert health.headers["retry-after"]
        key = {"X-API-Key": "bnt_" + "a" * 43}
        unavailable(await client.get("/api/v1/images", headers=key), "DATABASE_UNAVAILABLE")
        unavailable(
            await client.post("/api/v1/generations", headers=key, json={"prompt": "x"}),
            "DATABASE_UNAVAILABLE",
        )
        image = "/cdn/acme/site/img/00000000-0000-4000-8000-000000000000"
        unavailable(await client.get(image), "DATABASE_UNAVAILABLE")
        unavailable(await client.get(LIVE, headers=JSON), "DATABASE_UNAVAILABLE")
        unavailable(
            await client.post("/api/bootstrap/initial-key", json={"organizationSlug": "acme"}),
            "DATABASE_UNAVAILABLE",
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class S3Server:
    """moto's S3 on a fixed port, stopped and started again mid-test (its state lives in this
    process, so the bucket and objects survive a restart)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: ThreadedMotoServer | None = None
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    if "s3_server" not in request.fixturenames:
        return settings
    server: S3Server = request.getfixturevalue("s3_server")
    url = s3_storage_url(server.endpoint, unique_bucket_name())
    return settings.model_copy(update={"storage_url": url})


async def test_s3_down(
    s3_server: S3Server, app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    rt: Runtime = app.state.runtime
    uploaded = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert uploaded.status_code == 201, uploaded.text
    image_id = uploaded.json()["data"]["image"]["id"]
    assert (await client.get(f"/cdn/acme/site/img/{image_id}?w=32")).status_code == 200
    key = f"acme/site/img/{image_id}"
    assert len({b.key async for page in rt.blobs.list_blobs(key) for b in page}) >= 2

    s3_server.stop()
    unavailable(await client.get(f"/cdn/acme/site/img/{image_id}"), "STORAGE_UNAVAILABLE")
    # The delete completes: the row goes now, the blobs' deletion waits in the outbox.
    deleted = await client.delete(f"/api/v1/images/{image_id}", headers=keys.headers())
    assert deleted.status_code == 200, deleted.text
    assert (
        await client.get(f"/api/v1/images/{image_id}", headers=keys.headers())
    ).status_code == 404
    async with rt.sessionmaker() as session:
        waiting = (await session.execute(select(BlobDeletion.key))).scalars().all()
    assert waiting == [key]
    assert await drain(rt.sessionmaker, rt.blobs) == 0  # still down: kept, retried later

    s3_server.start()
    async with rt.sessionmaker() as session:
        await session.execute(update(BlobDeletion).values(next_attempt_at=BlobDeletion.created_at))
        await session.commit()
    assert await drain(rt.sessionmaker, rt.blobs) == 1
    assert [b async for b in rt.blobs.list_blobs(key)] == []
    async with rt.sessionmaker() as session:
        assert (await session.execute(select(BlobDeletion))).first() is None
