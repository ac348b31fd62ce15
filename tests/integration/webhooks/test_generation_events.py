"""Generations tell their webhooks: `generation.succeeded` and `generation.failed` reach the
project's endpoints (as their event filters say) and the request's own `webhookUrl` (signed
with the project's signing secret), carrying the generation as the API shows it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from banatie.db.base import utcnow
from banatie.generation.models import Generation
from banatie.recovery.service import sweep
from banatie.settings import Settings
from tests.conftest import Keys
from tests.integration.recovery.test_sweep import add_worker, start_and_die
from tests.integration.webhooks.conftest import HOOKS, project_key, register
from tests.support.synthesizers import FailingSynthesizer
from tests.support.webhook_receiver import Receiver, running_receiver


async def test_a_generation_tells_the_endpoints_and_its_own_webhook_url(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    await register(client, keys, receiver)  # every event
    secret = await client.get(f"{HOOKS}/signing-secret", headers=keys.headers())
    with running_receiver() as own:
        own.secret = secret.json()["data"]["secret"]
        created = await client.post(
            "/api/v1/generations",
            headers=keys.headers(),
            json={"prompt": "a lighthouse at dusk", "webhookUrl": own.url("/done")},
        )
        assert created.status_code == 201, created.text
        generation = created.json()["data"]
        (mine,) = await asyncio.to_thread(own.wait_for, lambda calls: len(calls) >= 1)
    (theirs,) = await asyncio.to_thread(receiver.wait_for, lambda calls: len(calls) >= 1)
    assert mine.verified and theirs.verified and mine.path == "/done"
    assert mine.message_id == theirs.message_id  # one event, two targets
    assert theirs.payload["type"] == "generation.succeeded"
    shown = await client.get(f"/api/v1/generations/{generation['id']}", headers=keys.headers())
    data = theirs.payload["data"]
    assert data["id"] == generation["id"] and data["status"] == "success"
    assert data["outputImage"] == shown.json()["data"]["outputImage"]
    assert data["webhookUrl"] == own.url("/done")


async def test_a_failed_generation_is_told_to_endpoints_that_want_failures(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    hook = await register(client, keys, receiver, events=["generation.failed"])
    ok = await client.post("/api/v1/generations", headers=keys.headers(), json={"prompt": "a fox"})
    assert ok.status_code == 201  # not an event this endpoint takes
    app.state.runtime.synthesizer = FailingSynthesizer("model unavailable")
    failed = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a wolf"}
    )
    assert failed.status_code == 502
    (call,) = await asyncio.to_thread(receiver.wait_for, lambda calls: len(calls) >= 1)
    assert call.verified and call.payload["type"] == "generation.failed"
    assert call.payload["data"]["errorCode"] == "PROVIDER_ERROR"
    assert call.payload["data"]["errorMessage"] == "model unavailable"
    await asyncio.sleep(0.3)  # nothing else arrives
    assert len(receiver.received()) == 1
    log = await client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=keys.headers())
    assert [row["eventType"] for row in log.json()["data"]] == ["generation.failed"]


async def test_a_webhook_url_on_a_private_address_is_refused_before_anything_runs(
    guarded_client: httpx.AsyncClient,
) -> None:
    key = await project_key(guarded_client)
    refused = await guarded_client.post(
        "/api/v1/generations",
        headers={"X-API-Key": key},
        json={"prompt": "a fox", "webhookUrl": "http://169.254.169.254/latest"},
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "URL_NOT_ALLOWED"
    assert refused.json()["error"]["details"] == {"field": "webhookUrl"}
    listed = await guarded_client.get("/api/v1/generations", headers={"X-API-Key": key})
    assert listed.json()["pagination"]["total"] == 0


async def test_a_generation_whose_process_died_is_told_as_failed(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, settings: Settings
) -> None:
    await register(client, keys, receiver)
    generation_id = await start_and_die(app, client, keys)
    later = utcnow() + timedelta(seconds=settings.work_stale_seconds + 10)
    report = await sweep(app.state.runtime.sessionmaker, settings, me="another-replica", now=later)
    assert report.interrupted == 1
    (call,) = await asyncio.to_thread(receiver.wait_for, lambda calls: len(calls) >= 1)
    assert call.verified and call.payload["type"] == "generation.failed"
    assert call.payload["data"]["id"] == generation_id
    assert call.payload["data"]["errorCode"] == "INTERRUPTED"


async def test_the_sweeps_failed_event_goes_out_without_waiting_for_the_next_poll(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, settings: Settings
) -> None:
    """The recovery sweep of `serve`'s lifespan fails a dead worker's generation and wakes the
    dispatcher after its commit, as a finished generation does."""
    rt = app.state.runtime
    await register(client, keys, receiver)
    generation_id = await start_and_die(app, client, keys)
    settings.webhook_poll_seconds = 60  # far longer than the receiver waits
    await asyncio.sleep(0.3)  # the running dispatcher is now in its long wait
    await add_worker(rt, "gone", age=settings.work_stale_seconds + 10, host_id=None, pid=1)
    async with rt.sessionmaker() as session:  # the generation was that dead worker's
        await session.execute(
            update(Generation).where(Generation.id == generation_id).values(owner="gone")
        )
        await session.commit()
    async with app.router.lifespan_context(app):  # its start sweeps
        (call,) = await asyncio.to_thread(
            receiver.wait_for, lambda calls: len(calls) >= 1, timeout=10
        )
    assert call.payload["type"] == "generation.failed"
    assert call.payload["data"]["id"] == generation_id
    assert call.payload["data"]["errorCode"] == "INTERRUPTED"
