"""Work whose process died: any replica marks its generations failed (INTERRUPTED), releases
their reservations and gives its live claims back (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from banatie.app import create_app
from banatie.db.base import utcnow
from banatie.live.models import LiveEntry
from banatie.recovery import host
from banatie.recovery.models import Worker
from banatie.recovery.service import sweep
from banatie.runtime import Runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.synthesizers import HeldSynthesizer

GENERATIONS = "/api/v1/generations"


async def until(predicate: Any) -> None:
    deadline = time.monotonic() + 20
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def add_worker(
    rt: Runtime, worker_id: str, *, age: float, host_id: str | None, pid: int
) -> None:
    async with rt.sessionmaker() as session:
        beat = utcnow() - timedelta(seconds=age)
        session.add(Worker(id=worker_id, host=host_id, pid=pid, started_at=beat, heartbeat_at=beat))
        await session.commit()


async def worker_ids(rt: Runtime) -> list[str]:
    async with rt.sessionmaker() as session:
        return list((await session.execute(select(Worker.id))).scalars().all())


async def start_and_die(app: FastAPI, client: httpx.AsyncClient, keys: Keys) -> str:
    """A generation in flight whose process dies: the request is cancelled mid-synthesis, so
    no code of it runs afterwards (as with kill -9). Returns the generation's id."""
    rt: Runtime = app.state.runtime
    held = HeldSynthesizer(rt.synthesizer)
    rt.synthesizer = held
    request = asyncio.create_task(
        client.post(GENERATIONS, headers=keys.headers(), json={"prompt": "a fox", "flowId": None})
    )

    async def started() -> bool:
        return held.started == 1

    await until(started)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    rt.synthesizer = held.inner  # type: ignore[assignment]
    listed = (await client.get(GENERATIONS, headers=keys.headers())).json()["data"]
    assert [g["status"] for g in listed] == ["processing"]
    return str(listed[0]["id"])


async def used(client: httpx.AsyncClient, keys: Keys) -> int:
    return int((await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]["used"])


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_silent_worker_work_is_failed_and_released(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    rt: Runtime = app.state.runtime
    generation_id = await start_and_die(app, client, keys)
    assert await used(client, keys) == 1  # the reservation counts
    again = await client.post(f"{GENERATIONS}/{generation_id}/regenerate", headers=keys.headers())
    assert again.status_code == 409 and again.json()["error"]["code"] == "GENERATION_IN_PROGRESS"

    # Its process beat until a moment ago: not stale yet, nothing happens.
    await add_worker(rt, rt.instance, age=settings.work_stale_seconds - 5, host_id=None, pid=1)
    report = await sweep(rt.sessionmaker, settings, me="another-replica")
    assert report.interrupted == 0
    assert await used(client, keys) == 1

    # Silent past BANATIE_WORK_STALE_SECONDS: any replica recovers its work.
    later = utcnow() + timedelta(seconds=10)
    report = await sweep(rt.sessionmaker, settings, me="another-replica", now=later)
    assert (report.dead_workers, report.interrupted) == (1, 1)
    got = (await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())).json()
    assert (got["data"]["status"], got["data"]["errorCode"]) == ("failed", "INTERRUPTED")
    assert "stopped" in got["data"]["errorMessage"]
    assert await used(client, keys) == 0
    assert await worker_ids(rt) == []
    # A second sweep finds nothing more; regenerating works again.
    assert (await sweep(rt.sessionmaker, settings, now=later)).interrupted == 0
    again = await client.post(f"{GENERATIONS}/{generation_id}/regenerate", headers=keys.headers())
    assert again.status_code == 200, again.text
    assert again.json()["data"]["status"] == "success"
    assert await used(client, keys) == 1


async def test_dead_pid_on_this_host_is_recovered_at_once(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    rt: Runtime = app.state.runtime
    generation_id = await start_and_die(app, client, keys)
    if host.identity() is None:
        pytest.skip("this host cannot tell its pid namespace")
    await add_worker(rt, rt.instance, age=0, host_id=host.identity(), pid=dead_pid())
    # A live process with a fresh beat on this host is left alone.
    await add_worker(rt, "alive", age=0, host_id=host.identity(), pid=os.getppid())
    report = await sweep(rt.sessionmaker, settings, me="restarted-process")
    assert (report.dead_workers, report.interrupted) == (1, 1)
    got = (await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())).json()
    assert got["data"]["errorCode"] == "INTERRUPTED"
    assert await worker_ids(rt) == ["alive"]


async def test_unowned_generation_is_recovered_once_old(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    """An owner that never registered (or rows from before owners existed)."""
    rt: Runtime = app.state.runtime
    generation_id = await start_and_die(app, client, keys)
    assert (await sweep(rt.sessionmaker, settings, me="x")).interrupted == 0
    later = utcnow() + timedelta(seconds=settings.work_stale_seconds + 1)
    assert (await sweep(rt.sessionmaker, settings, me="x", now=later)).interrupted == 1
    got = (await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())).json()
    assert got["data"]["status"] == "failed"


@pytest.fixture
async def second_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """Another replica on the same database."""
    application = create_app(settings)
    yield application
    await application.state.runtime.close()


async def test_waiter_on_a_dead_live_claim_is_served_promptly(
    app: FastAPI,
    second_app: FastAPI,
    client: httpx.AsyncClient,
    keys: Keys,
    settings: Settings,
) -> None:
    dead: Runtime = app.state.runtime
    held = HeldSynthesizer(dead.synthesizer)
    dead.synthesizer = held
    url = "/cdn/acme/site/live/blog?prompt=a+quiet+harbour"
    # The first visitor's process claims the URL and then freezes for good (as if killed).
    frozen = asyncio.create_task(client.get(url))

    async def claimed() -> bool:
        return held.started == 1

    await until(claimed)
    await add_worker(dead, dead.instance, age=settings.work_stale_seconds + 1, host_id=None, pid=1)

    transport = httpx.ASGITransport(app=second_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        visitor = asyncio.create_task(other.get(url))
        await asyncio.sleep(0.3)
        assert not visitor.done()  # it waits on the claim (its heartbeat is fresh)
        began = time.monotonic()
        report = await sweep(second_app.state.runtime.sessionmaker, settings, me="replica-2")
        assert report.released_claims == 1
        async with asyncio.timeout(20):
            answer = await visitor
    assert answer.status_code == 200, answer.text
    assert time.monotonic() - began < 10
    async with dead.sessionmaker() as session:
        entries = (await session.execute(select(LiveEntry.status))).scalars().all()
    assert entries == ["ready"]
    frozen.cancel()
    with pytest.raises(asyncio.CancelledError):
        await frozen


async def test_lifespan_beats_sweeps_and_gives_its_work_up_at_shutdown(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    rt: Runtime = app.state.runtime
    generation_id = await start_and_die(app, client, keys)
    settings.work_stale_seconds = 0.6  # beats every 0.1 s
    await add_worker(rt, "gone", age=60, host_id=None, pid=1)
    async with app.router.lifespan_context(app):
        assert rt.instance in await worker_ids(rt)

        async def gone_swept() -> bool:
            return "gone" not in await worker_ids(rt)

        await until(gone_swept)
        async with rt.sessionmaker() as session:
            first = await session.get(Worker, rt.instance, populate_existing=True)
            assert first is not None
            beat = first.heartbeat_at

        async def beating() -> bool:
            async with rt.sessionmaker() as session:
                row = await session.get(Worker, rt.instance, populate_existing=True)
                return row is not None and row.heartbeat_at > beat

        await until(beating)
        # Our own generation is ours (a live owner): left alone while we run.
        got = (await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())).json()
        assert got["data"]["status"] == "processing"
    # A clean stop gives up what this process had in flight, and unregisters.
    got = (await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())).json()
    assert got["data"]["errorCode"] == "INTERRUPTED"
    assert await worker_ids(rt) == []
