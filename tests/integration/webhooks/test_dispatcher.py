"""The outbox and its dispatchers: an event arrives signed (checked with the `standardwebhooks`
verifier) and is retried until the receiver takes it; one that keeps failing is marked failed,
visible in the delivery log and redeliverable; dispatchers that run side by side, stop, or die
mid-attempt neither lose a delivery nor send one twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from banatie.accounts.models import Project
from banatie.db.base import utcnow
from banatie.db.engine import make_engine, make_sessionmaker
from banatie.db.transactions import unit_of_work
from banatie.runtime import Runtime
from banatie.webhooks import events, repository
from banatie.webhooks.dispatcher import Dispatcher
from banatie.webhooks.models import WebhookDelivery
from tests.conftest import Keys
from tests.integration.webhooks.conftest import HOOKS, register
from tests.support.webhook_receiver import Receiver


async def project_id(app: FastAPI) -> str:
    async with app.state.runtime.sessionmaker() as session:
        return str((await session.execute(select(Project.id))).scalar_one())


async def emit(runtime: Runtime, project: str, count: int = 1, wake: bool = True) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        for n in range(count):
            await events.record(
                session,
                project_id=project,
                event_type="generation.succeeded",
                data={"id": f"gen-{n}", "status": "success"},
                wake=runtime.webhooks.on_commit if wake else None,
            )


async def log_of(client: httpx.AsyncClient, keys: Keys, hook_id: object) -> list[dict[str, Any]]:
    answer = await client.get(f"{HOOKS}/{hook_id}/deliveries", headers=keys.headers())
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["data"]
    return rows


async def until(predicate: Any) -> None:
    for _ in range(300):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within 15 s")


async def test_an_event_arrives_signed_and_is_retried_until_the_receiver_accepts(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    hook = await register(client, keys, receiver)
    receiver.fail_next(2)
    await emit(app.state.runtime, await project_id(app))
    calls = await asyncio.to_thread(receiver.wait_for, lambda calls: len(calls) == 3)
    assert [call.answered for call in calls] == [500, 500, 204]
    assert all(call.verified for call in calls)  # Webhook(secret).verify passed on each
    assert len({call.message_id for call in calls}) == 1  # the same webhook-id on every attempt
    assert calls[0].message_id.startswith("msg_")
    assert calls[0].headers["webhook-signature"].startswith("v1,")
    body = calls[-1].payload
    assert body["type"] == "generation.succeeded" and body["data"]["id"] == "gen-0"
    assert body["timestamp"].endswith("Z")

    async def logged() -> bool:
        return bool((await log_of(client, keys, hook["id"]))[0]["status"] == "succeeded")

    await until(logged)
    (entry,) = await log_of(client, keys, hook["id"])
    assert entry["attempts"] == 3 and entry["lastStatusCode"] == 204
    assert entry["messageId"] == calls[0].message_id and entry["nextAttemptAt"] is None


async def test_a_delivery_that_keeps_failing_is_marked_failed_then_redelivered(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    hook = await register(client, keys, receiver)
    receiver.fail_next(4, status=503)  # the first attempt and all three retries
    await emit(app.state.runtime, await project_id(app))

    async def failed() -> bool:
        return bool((await log_of(client, keys, hook["id"]))[0]["status"] == "failed")

    await until(failed)
    (entry,) = await log_of(client, keys, hook["id"])
    assert entry["attempts"] == 4 and entry["lastStatusCode"] == 503
    assert "503" in entry["lastError"]
    listed = await client.get(f"{HOOKS}/deliveries?status=failed", headers=keys.headers())
    assert [row["id"] for row in listed.json()["data"]] == [entry["id"]]

    await app.state.runtime.webhooks.stop()  # while it is pending, a second ask is refused
    redeliver = f"{HOOKS}/deliveries/{entry['id']}/redeliver"
    again = await client.post(redeliver, headers=keys.headers())
    assert again.status_code == 200 and again.json()["data"]["status"] == "pending"
    assert again.json()["data"]["attempts"] == 0
    twice = await client.post(redeliver, headers=keys.headers())
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "WEBHOOK_DELIVERY_PENDING"
    app.state.runtime.webhooks.start()
    await asyncio.to_thread(receiver.wait_for, lambda _: len(receiver.accepted()) == 1)
    assert receiver.accepted()[0].message_id == entry["messageId"]


async def test_two_dispatchers_side_by_side_send_each_delivery_once(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    runtime: Runtime = app.state.runtime
    await runtime.webhooks.stop()  # nothing runs while the events are recorded
    await register(client, keys, receiver)
    await emit(runtime, await project_id(app), count=30, wake=False)
    replica = make_engine(runtime.settings.resolved_database_url)  # another process's engine
    dispatchers = [
        Dispatcher(runtime.sessionmaker, runtime.settings),
        Dispatcher(make_sessionmaker(replica), runtime.settings),
    ]
    try:
        for dispatcher in dispatchers:
            dispatcher.start()
        calls = await asyncio.to_thread(receiver.wait_for, lambda calls: len(calls) >= 30)
        await asyncio.sleep(0.5)  # time for a duplicate to show up, were there one
    finally:
        for dispatcher in dispatchers:
            await dispatcher.stop()
        await replica.dispose()
    calls = receiver.received()
    assert len(calls) == 30 and all(call.verified for call in calls)
    assert max(Counter(call.message_id for call in calls).values()) == 1


async def test_a_dispatcher_that_dies_mid_attempt_leaves_the_delivery_to_another(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    runtime: Runtime = app.state.runtime
    await runtime.webhooks.stop()
    hook = await register(client, keys, receiver)
    await emit(runtime, await project_id(app), wake=False)
    # A dispatcher claims the delivery and dies before recording anything (kill -9).
    async with unit_of_work(runtime.sessionmaker) as session:
        (dead,) = await repository.claim_due(session, now=utcnow(), lease_seconds=1.5, limit=5)
    survivor = Dispatcher(runtime.sessionmaker, runtime.settings)
    try:
        assert await survivor.drain_once() == 0  # the claim holds: no second sender meanwhile
        await asyncio.sleep(1.6)
        assert await survivor.drain_once() == 1  # the lease ran out: sent, once
        assert await survivor.drain_once() == 0
    finally:
        await survivor.stop()
    (call,) = receiver.received()
    assert call.verified and call.message_id == dead.message_id
    (entry,) = await log_of(client, keys, hook["id"])
    assert entry["status"] == "succeeded" and entry["attempts"] == 1


async def test_a_stopped_dispatcher_gives_its_claim_back_at_once(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    runtime: Runtime = app.state.runtime
    await register(client, keys, receiver)
    receiver.released.clear()  # the receiver holds its answer: the attempt is in flight
    await emit(runtime, await project_id(app))
    await asyncio.to_thread(lambda: receiver.wait_for(lambda _: receiver.arrivals == 1))
    await runtime.webhooks.stop()  # graceful stop mid-attempt
    async with runtime.sessionmaker() as session:
        (row,) = (await session.execute(select(WebhookDelivery))).scalars().all()
    assert row.status == "pending" and row.attempts == 0
    assert row.next_attempt_at is not None and row.next_attempt_at <= utcnow()
    receiver.released.set()
    successor = Dispatcher(runtime.sessionmaker, runtime.settings)
    try:
        assert await successor.drain_once() == 1  # no lease to wait out
    finally:
        await successor.stop()
