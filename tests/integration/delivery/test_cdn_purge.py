"""CDN purges: the Cloudflare adapter against a local server speaking Cloudflare's purge API, the
durable outbox (written with the change, retried with backoff, never dropped), and the events
that need a purge: delete, alias move or removal, focal point change."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from banatie.app import create_app
from banatie.db.base import utcnow
from banatie.delivery.cdn import CloudflareCdnPurger, PurgeError, PurgeRequest
from banatie.delivery.models import CdnPurge
from tests.conftest import Keys
from tests.integration.delivery.conftest import AppFactory, runtime_of, upload
from tests.support.cloudflare_server import CloudflareState, running_cloudflare_server

TOKEN = "cf-test-token"
ZONE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def cloudflare() -> Iterator[CloudflareState]:
    with running_cloudflare_server(token=TOKEN, zone=ZONE) as state:
        yield state


def cf_settings(cloudflare: CloudflareState, **more: Any) -> dict[str, Any]:
    return {
        "cloudflare_zone_id": ZONE,
        "cloudflare_api_token": TOKEN,
        "cloudflare_api_base_url": cloudflare.base_url,
        "cdn_base_url": "https://img.example.com",
        "cdn_purge_retry_base_seconds": 10.0,
        **more,
    }


async def drain(app: FastAPI) -> int:
    """Run one outbox pass once new purges have settled (they wait one metadata TTL)."""
    outbox = runtime_of(app).delivery.outbox
    return await outbox.drain_once(utcnow() + timedelta(seconds=outbox.settle_seconds + 0.1))


async def pending(app: FastAPI) -> list[CdnPurge]:
    async with runtime_of(app).sessionmaker() as session:
        rows = await session.execute(select(CdnPurge).order_by(CdnPurge.created_at))
        return list(rows.scalars())


# -- the adapter --------------------------------------------------------------------------


async def test_adapter_speaks_cloudflares_purge_api(cloudflare: CloudflareState) -> None:
    purger = CloudflareCdnPurger(ZONE, TOKEN, base_url=cloudflare.base_url)
    urls = [f"https://img.example.com/cdn/a/b/img/x?w={i}" for i in range(65)]
    await purger.purge(PurgeRequest(urls=urls, tags=["bnt-img-x"]))
    await purger.close()
    # 30 files per call, as Cloudflare allows on Free/Pro/Business zones.
    assert [len(c.body.get("files", [])) for c in cloudflare.calls] == [30, 30, 5, 0]
    assert cloudflare.purged_files() == urls
    assert cloudflare.calls[-1].body == {"tags": ["bnt-img-x"]}
    assert {c.zone for c in cloudflare.calls} == {ZONE}


async def test_adapter_reports_refusals(cloudflare: CloudflareState) -> None:
    wrong = CloudflareCdnPurger(ZONE, "wrong-token", base_url=cloudflare.base_url)
    with pytest.raises(PurgeError, match=r"HTTP 403 \(10000: Authentication error\)"):
        await wrong.purge(PurgeRequest(urls=["https://x/a"]))
    await wrong.close()
    unknown_zone = CloudflareCdnPurger("nozone", TOKEN, base_url=cloudflare.base_url)
    with pytest.raises(PurgeError, match="HTTP 404"):
        await unknown_zone.purge(PurgeRequest(urls=["https://x/a"]))
    await unknown_zone.close()
    purger = CloudflareCdnPurger(ZONE, TOKEN, base_url=cloudflare.base_url)
    cloudflare.fail_next(1, status=429, retry_after=42)
    with pytest.raises(PurgeError) as caught:
        await purger.purge(PurgeRequest(urls=["https://x/a"]))
    assert caught.value.retry_after == 42.0
    await purger.close()
    down = CloudflareCdnPurger(ZONE, TOKEN, base_url="http://127.0.0.1:9/client/v4")
    with pytest.raises(PurgeError, match="ConnectError"):
        await down.purge(PurgeRequest(urls=["https://x/a"]))
    await down.close()
    assert cloudflare.purged_files() == []


# -- events -> outbox -> Cloudflare --------------------------------------------------------


async def test_delete_purges_every_url_of_the_image(
    keys: Keys, app_with: AppFactory, cloudflare: CloudflareState
) -> None:
    client, app = await app_with(**cf_settings(cloudflare))
    image = await upload(client, keys, alias="@hero")
    await client.get(f"/cdn/acme/site/img/{image['id']}?h=30&mode=max&width=40")
    assert await pending(app) == []
    response = await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert response.status_code == 200
    # The purge was committed with the delete, before anything was sent.
    rows = await pending(app)
    assert [r.reason for r in rows] == ["image deleted"] and cloudflare.calls == []
    assert await drain(app) == 1
    assert await pending(app) == []

    files = cloudflare.purged_files()
    cdn = "https://img.example.com/cdn/acme/site/img"
    for ref in (image["id"], "@hero"):
        assert f"{cdn}/{ref}" in files
        assert f"{cdn}/{ref}?w=256&h=256&mode=crop&format=auto" in files  # a preset
        assert f"{cdn}/{ref}?w=320&format=auto" in files  # srcset
        assert f"{cdn}/{ref}?w=40&h=30" in files  # the variant it rendered (canonical)
    for url in image["variants"].values():  # exactly what the API handed out
        assert url in files
    for entry in image["srcset"].split(", "):
        assert entry.split(" ")[0] in files
    assert all(len(c.body["files"]) <= 30 for c in cloudflare.calls)


async def test_alias_move_and_removal_purge_the_alias(
    keys: Keys, app_with: AppFactory, cloudflare: CloudflareState
) -> None:
    client, app = await app_with(**cf_settings(cloudflare))
    first = await upload(client, keys, alias="@logo")
    second = await upload(client, keys)
    assert await pending(app) == []
    moved = await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": "@logo"}
    )
    assert moved.json()["data"]["aliasMovedFrom"] == first["id"]
    assert [r.reason for r in await pending(app)] == ["alias moved"]
    await drain(app)
    files = cloudflare.purged_files()
    assert "https://img.example.com/cdn/acme/site/img/@logo" in files
    # The image that lost the alias keeps its id URLs: those are not purged.
    assert f"https://img.example.com/cdn/acme/site/img/{first['id']}" not in files

    # Renaming: the old alias goes away.
    await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": "@brand"}
    )
    await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": None}
    )
    assert [r.reason for r in await pending(app)] == ["alias moved", "alias removed"]
    assert [r.payload["refs"] for r in await pending(app)] == [["@logo"], ["@brand"]]
    assert await drain(app) == 2
    # Uploading with a new alias moves nothing: nothing to purge.
    await upload(client, keys, alias="@fresh")
    assert await pending(app) == []


async def test_focal_point_change_purges_crops(
    keys: Keys, app_with: AppFactory, cloudflare: CloudflareState
) -> None:
    client, app = await app_with(**cf_settings(cloudflare))
    image = await upload(client, keys)
    same = image["focalPoint"]
    await client.put(
        f"/api/v1/images/{image['id']}", headers=keys.headers(), json={"focalPoint": same}
    )
    await client.put(f"/api/v1/images/{image['id']}", headers=keys.headers(), json={"tags": ["a"]})
    assert await pending(app) == []  # nothing that changes pixels
    await client.put(
        f"/api/v1/images/{image['id']}",
        headers=keys.headers(),
        json={"focalPoint": {"x": 0.1, "y": 0.9}},
    )
    assert [r.reason for r in await pending(app)] == ["focal point changed"]
    await drain(app)
    assert image["variants"]["thumbnail"] in cloudflare.purged_files()


async def test_failed_purges_are_retried_with_backoff_and_never_dropped(
    keys: Keys,
    app_with: AppFactory,
    cloudflare: CloudflareState,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, app = await app_with(**cf_settings(cloudflare, cdn_purge_max_attempts=3))
    outbox = runtime_of(app).delivery.outbox
    image = await upload(client, keys)
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())

    cloudflare.fail_next(1, status=500)
    caplog.set_level(logging.WARNING, logger="banatie.delivery.outbox")
    now = utcnow() + timedelta(seconds=outbox.settle_seconds)
    assert await outbox.drain_once(now) == 0
    [row] = await pending(app)
    assert row.attempts == 1 and row.status == "pending"
    assert "HTTP 500" in (row.last_error or "")
    delay = (row.next_attempt_at - now).total_seconds()
    assert 9 <= delay <= 11  # the first backoff step, with jitter
    now += timedelta(seconds=outbox.settle_seconds)  # from here on, due times are shifted
    assert "retrying" in caplog.text
    # Not due yet: nothing is sent.
    assert await outbox.drain_once(now + timedelta(seconds=5)) == 0
    assert cloudflare.attempts == 1

    # Rate limited: Retry-After is honoured when longer than the backoff.
    cloudflare.fail_next(1, status=429, retry_after=300)
    later = now + timedelta(seconds=12)
    assert await outbox.drain_once(later) == 0
    [row] = await pending(app)
    assert row.attempts == 2
    assert (row.next_attempt_at - later).total_seconds() >= 300

    # The CDN is back: the purge goes out and the row goes.
    assert await outbox.drain_once(later + timedelta(seconds=301 + outbox.settle_seconds)) == 1
    assert await pending(app) == []
    assert f"https://img.example.com/cdn/acme/site/img/{image['id']}" in cloudflare.purged_files()


async def test_a_purge_that_keeps_failing_is_parked_not_lost(
    keys: Keys,
    app_with: AppFactory,
    cloudflare: CloudflareState,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, app = await app_with(**cf_settings(cloudflare, cdn_purge_max_attempts=2))
    outbox = runtime_of(app).delivery.outbox
    image = await upload(client, keys)
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    cloudflare.fail_next(5, status=500)
    caplog.set_level(logging.WARNING, logger="banatie.delivery.outbox")
    now = utcnow() + timedelta(seconds=5)
    await outbox.drain_once(now)
    await outbox.drain_once(now + timedelta(hours=2))
    [row] = await pending(app)
    assert row.status == "failed" and row.attempts == 2
    assert "parked as 'failed'" in caplog.text
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    assert await outbox.drain_once(now + timedelta(days=2)) == 0  # kept for an operator


async def test_two_workers_never_send_the_same_row_twice(
    keys: Keys, app_with: AppFactory, cloudflare: CloudflareState
) -> None:
    client, app = await app_with(**cf_settings(cloudflare))
    _, other_replica = await app_with(**cf_settings(cloudflare))
    for _ in range(3):
        image = await upload(client, keys)
        await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    sent = await asyncio.gather(drain(app), drain(other_replica))
    assert sum(sent) == 3
    assert await pending(app) == []


async def test_the_worker_runs_in_the_app_lifespan(
    keys: Keys, settings: Any, cloudflare: CloudflareState
) -> None:
    from banatie.settings import Settings

    changed = Settings(
        _env_file=None,
        **{**settings.model_dump(), **cf_settings(cloudflare, cdn_purge_poll_seconds=30)},
    )
    app = create_app(changed)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        image = await upload(client, keys)
        await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
        # The delete wakes the worker: no need to wait for the 30 s poll.
        for _ in range(200):  # the purge settles for one metadata TTL (1.5 s), then goes
            if cloudflare.calls:
                break
            await asyncio.sleep(0.05)
        assert f"https://img.example.com/cdn/acme/site/img/{image['id']}" in (
            cloudflare.purged_files()
        )


async def test_purges_wait_for_the_metadata_ttl(
    keys: Keys, app_with: AppFactory, cloudflare: CloudflareState
) -> None:
    """Another process may serve an image row up to one TTL after a change: a purge sent
    before that could let the CDN refetch a stale answer, so it waits."""
    client, app = await app_with(**cf_settings(cloudflare, delivery_metadata_ttl_seconds=3))
    outbox = runtime_of(app).delivery.outbox
    assert outbox.settle_seconds == 3.5
    image = await upload(client, keys)
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert await outbox.drain_once(utcnow() + timedelta(seconds=2)) == 0
    assert cloudflare.calls == []
    assert await outbox.drain_once(utcnow() + timedelta(seconds=4)) == 1
    _, uncached = await app_with(**cf_settings(cloudflare, delivery_metadata_ttl_seconds=0))
    assert runtime_of(uncached).delivery.outbox.settle_seconds == 0


async def test_noop_purger_by_default(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    runtime = runtime_of(app)
    assert runtime.delivery.purger.name == "none"
    image = await upload(client, keys)
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert await drain(app) == 1
    assert await pending(app) == []


async def test_accept_param_and_tags(
    keys: Keys, app_with: AppFactory, cloudflare: CloudflareState
) -> None:
    client, app = await app_with(
        **cf_settings(cloudflare, cloudflare_accept_param="bnt-accept", cloudflare_purge_tags=True)
    )
    image = await upload(client, keys, alias="@a")
    got = await client.get("/cdn/acme/site/img/@a?w=20&format=auto")
    assert got.headers["cache-tag"] == f"bnt-img-{image['id']},bnt-alias-acme/site/@a"
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    await drain(app)
    files = cloudflare.purged_files()
    thumb = image["variants"]["thumbnail"]
    assert {thumb, *(f"{thumb}&bnt-accept={v}" for v in ("avif", "webp", "other"))} <= set(files)
    og = image["variants"]["og"]  # format=jpeg: no Accept variants
    assert og in files and f"{og}&bnt-accept=avif" not in files
    assert set(cloudflare.purged_tags()) == {f"bnt-img-{image['id']}", "bnt-alias-acme/site/@a"}
