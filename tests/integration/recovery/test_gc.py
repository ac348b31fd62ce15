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
from sqlalchemy import select
from typer.testing import CliRunner

from banatie.cli import app as cli
from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.delivery.models import ImageVariant
from banatie.delivery.variants import variant_key
from banatie.recovery.gc import collect_orphan_blobs
from banatie.runtime import Runtime
from banatie.settings import Settings
from banatie.storage.local import LocalBlobStore
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


async def image_with_a_variant(client: httpx.AsyncClient, keys: Keys) -> str:
    """An uploaded image with one variant rendered (`?w=32`); its id."""
    uploaded = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert uploaded.status_code == 201
    image_id: str = uploaded.json()["data"]["image"]["id"]
    served = await client.get(f"/cdn/acme/site/img/{image_id}?w=32")
    assert served.status_code == 200
    return image_id


async def test_orphans_older_than_the_age_go_and_nothing_else(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    rt: Runtime = app.state.runtime
    image_id = await image_with_a_variant(client, keys)  # a variant of a live image: kept too
    kept = f"acme/site/img/{image_id}"
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


async def test_what_a_crash_mid_write_or_mid_render_left_is_cleaned(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    rt: Runtime = app.state.runtime
    image_id = await image_with_a_variant(client, keys)
    storage_key = f"acme/site/img/{image_id}"
    # A render killed before its store, and one killed between its store and its size.
    async with unit_of_work(rt.sessionmaker) as session:
        for digest in ("never-stored", "stored-unsized"):
            session.add(
                ImageVariant(
                    image_id=image_id,
                    variant_hash=digest,
                    spec=f"w={len(digest)}",
                    format="webp",
                    size_bytes=0,
                    created_at=utcnow(),
                )
            )
    await rt.blobs.put(variant_key(storage_key, "stored-unsized"), b"12345", "image/webp")
    temp = None
    if isinstance(rt.blobs, LocalBlobStore):  # a put killed mid-write
        temp = rt.blobs.blob_path(storage_key).parent / ".__blob__.0123abcd.tmp"
        temp.write_bytes(b"image/png\nhalf")

    async def sizes() -> dict[str, int]:
        async with rt.sessionmaker() as session:
            rows = await session.execute(
                select(ImageVariant.variant_hash, ImageVariant.size_bytes).where(
                    ImageVariant.image_id == image_id
                )
            )
            return {digest: size for digest, size in rows.all()}

    before = await sizes()
    young = await collect_orphan_blobs(rt.sessionmaker, rt.blobs, min_age=HOUR)
    assert (young.leftovers, young.variants_settled) == (0, 0)
    assert await sizes() == before and (temp is None or temp.exists())

    report = await collect_orphan_blobs(
        rt.sessionmaker, rt.blobs, min_age=HOUR, now=utcnow() + 2 * HOUR
    )
    assert report.variants_settled == 2 and report.deleted == 0
    after = await sizes()
    assert "never-stored" not in after and after["stored-unsized"] == 5
    assert {k: v for k, v in after.items() if k != "stored-unsized"} == {
        k: v for k, v in before.items() if k not in ("never-stored", "stored-unsized")
    }
    if temp is not None:
        assert report.leftovers == 1 and not temp.exists()
    assert (await client.get(f"/cdn/{storage_key}?w=32")).status_code == 200


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
