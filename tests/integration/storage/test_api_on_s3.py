"""The whole API on the S3 adapter (moto over HTTP), and what a failing blob store leaves behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.images import solid_png
from tests.support.s3_server import s3_storage_url, unique_bucket_name


@pytest.fixture
def settings(database_url: str, tmp_path: Path, s3_endpoint: str) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        database_url=database_url,
        storage_url=s3_storage_url(s3_endpoint, unique_bucket_name()),
        public_base_url="http://testserver",
    )


async def test_generate_upload_fetch_delete_on_s3(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    assert app.state.runtime.blobs.name == "s3"
    created = await client.post(
        "/api/v1/generations",
        headers=keys.headers(),
        json={"prompt": "a lighthouse", "alias": "@lh"},
    )
    assert created.status_code == 201, created.text
    image = created.json()["data"]["outputImage"]
    served = await client.get(f"/cdn/acme/site/img/{image['id']}")
    assert served.status_code == 200 and len(served.content) == image["fileSize"]
    uploaded = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert uploaded.status_code == 201
    key = f"acme/site/img/{image['id']}"
    assert await app.state.runtime.blobs.head(key) is not None
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert await app.state.runtime.blobs.head(key) is None


class FailingPuts:
    """Wraps a blob store; every write fails as a full disk or an S3 outage would."""

    name = "failing"

    def __init__(self, inner: object) -> None:
        self.inner = inner

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        raise OSError("disk full")

    def __getattr__(self, item: str) -> object:
        return getattr(self.inner, item)


@pytest.fixture
async def failing_app(app: FastAPI) -> AsyncIterator[FastAPI]:
    app.state.runtime.blobs = FailingPuts(app.state.runtime.blobs)
    yield app


async def test_failed_blob_write_leaves_no_row(
    failing_app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    upload = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert upload.status_code == 503 and upload.json()["error"]["code"] == "STORAGE_ERROR"
    generation = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "x"}
    )
    assert generation.status_code == 503
    images = (await client.get("/api/v1/images", headers=keys.headers())).json()
    assert images["pagination"]["total"] == 0
    generations = (await client.get("/api/v1/generations", headers=keys.headers())).json()
    assert [(g["status"], g["errorCode"]) for g in generations["data"]] == [
        ("failed", "STORAGE_ERROR")
    ]
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 0
