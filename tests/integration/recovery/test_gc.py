"""Orphan blobs (no image row points at them) are collected once old enough, on the local and
the S3 store; `banatie gc` runs it by hand, the server's lifespan periodically."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from banatie.cli import app as cli
from banatie.db.base import utcnow
from banatie.recovery.gc import collect_orphan_blobs
from banatie.runtime import Runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.images import solid_png
from tests.support.s3_server import s3_storage_url, unique_bucket_name

HOUR = timedelta(hours=1)


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "local":
        return settings
    endpoint = request.getfixturevalue("s3_endpoint")
    return settings.model_copy(
        update={"storage_url": s3_storage_url(endpoint, unique_bucket_name())}
    )


async def keys_of(rt: Runtime) -> set[str]:
    return {blob.key async for page in rt.blobs.list_blobs() for blob in page}


async def plant(rt: Runtime) -> tuple[str, str]:
    """What a process killed between writing a blob and committing its row leaves."""
    orphan = f"acme/site/img/{uuid.uuid4()}"
    await rt.blobs.put(orphan, solid_png(), "image/png")
    await rt.blobs.put(orphan + "/v/abc", b"variant", "image/webp")
    await rt.blobs.put("_elsewhere/notes.txt", b"not an image's", "text/plain")
    return orphan, orphan + "/v/abc"


async def test_orphans_older_than_the_age_go_and_nothing_else(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    rt: Runtime = app.state.runtime
    uploaded = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert uploaded.status_code == 201
    image_id = uploaded.json()["data"]["image"]["id"]
    kept = f"acme/site/img/{image_id}"
    served = await client.get(f"/cdn/acme/site/img/{image_id}?w=32")
    assert served.status_code == 200  # a variant of a live image: kept too
    orphans = set(await plant(rt))
    before = await keys_of(rt)
    assert orphans <= before and kept in before

    # Young: a write whose row may be about to commit is never touched.
    young = await collect_orphan_blobs(rt.sessionmaker, rt.blobs, min_age=HOUR)
    assert young.deleted == 0 and await keys_of(rt) == before

    later = utcnow() + 2 * HOUR
    dry = await collect_orphan_blobs(
        rt.sessionmaker, rt.blobs, min_age=HOUR, now=later, dry_run=True
    )
    assert dry.deleted == 2 and await keys_of(rt) == before

    report = await collect_orphan_blobs(rt.sessionmaker, rt.blobs, min_age=HOUR, now=later)
    assert report.deleted == 2 and report.deleted_bytes > 0
    assert report.other == 1
    assert await keys_of(rt) == before - orphans
    assert (await client.get(f"/cdn/acme/site/img/{image_id}")).status_code == 200


async def test_banatie_gc_collects_by_hand(app: FastAPI, settings: Settings, keys: Keys) -> None:
    rt: Runtime = app.state.runtime
    orphans = set(await plant(rt))
    env = {
        "BANATIE_DATABASE_URL": settings.database_url or "",
        "BANATIE_DATA_DIR": str(settings.data_dir),
    }
    if settings.storage_url:
        env["BANATIE_STORAGE_URL"] = settings.storage_url
    runner = CliRunner()
    # The default age (an hour) keeps what was just written.
    result = await asyncio.to_thread(runner.invoke, cli, ["gc"], env=env)
    assert result.exit_code == 0, result.output
    assert "deleted 0 orphan blob(s)" in result.output
    result = await asyncio.to_thread(runner.invoke, cli, ["gc", "--min-age", "0"], env=env)
    assert result.exit_code == 0, result.output
    assert "deleted 2 orphan blob(s)" in result.output
    assert not orphans & await keys_of(rt)


async def test_the_server_collects_periodically(
    app: FastAPI, settings: Settings, keys: Keys
) -> None:
    rt: Runtime = app.state.runtime
    settings.blob_gc_interval_seconds = 0.2
    settings.blob_gc_min_age_seconds = 0
    orphans = set(await plant(rt))
    async with app.router.lifespan_context(app):
        deadline = time.monotonic() + 20
        while orphans & await keys_of(rt):
            assert time.monotonic() < deadline, "orphans were not collected"
            await asyncio.sleep(0.05)
    assert "_elsewhere/notes.txt" in await keys_of(rt)
