"""Async generation (`Prefer: respond-async` / `"async": true`) on the job queue: the in-process
queue on SQLite, procrastinate on PostgreSQL (the `database_url` fixture runs both), with the
jobs run by the app's lifespan as `serve` runs them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from banatie.app import create_app
from banatie.generation.models import Generation
from banatie.jobs import runner
from banatie.providers.errors import ContentBlocked
from banatie.quota.models import UsageRecord
from banatie.recovery.service import sweep
from banatie.runtime import Runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.synthesizers import FlakySynthesizer, HeldSynthesizer

GENERATIONS = "/api/v1/generations"


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[Runtime]:
    """The app's lifespan: its job runner takes jobs (as `serve` does)."""
    rt: Runtime = app.state.runtime
    rt.settings.job_retry_seconds = 0.05
    async with app.router.lifespan_context(app):
        yield rt


async def wait_for(client: httpx.AsyncClient, keys: Keys, generation_id: str) -> dict[str, Any]:
    """Poll the generation until it is finished; its body."""
    deadline = time.monotonic() + 30
    while True:
        got = await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())
        data: dict[str, Any] = got.json()["data"]
        if data["status"] in ("success", "failed"):
            return data
        assert time.monotonic() < deadline, f"still {data['status']}"
        await asyncio.sleep(0.05)


async def charges(rt: Runtime, generation_id: str) -> dict[str, int]:
    async with rt.sessionmaker() as session:
        rows = await session.execute(
            select(UsageRecord.status, func.count())
            .where(UsageRecord.generation_id == generation_id)
            .group_by(UsageRecord.status)
        )
        return {status: int(count) for status, count in rows.all()}


async def test_prefer_respond_async_answers_202_and_the_job_completes_charged_once(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    async with serving(app) as running:
        response = await client.post(
            GENERATIONS,
            headers={**keys.headers(), "Prefer": "respond-async, wait=10"},
            json={"prompt": "a red fox in the snow", "alias": "@fox"},
        )
        assert response.status_code == 202, response.text
        body = response.json()["data"]
        assert body["status"] in ("pending", "processing")
        assert body["outputImage"] is None
        assert response.headers["location"] == f"{GENERATIONS}/{body['id']}"
        assert response.headers["preference-applied"] == "respond-async"
        # The pending generation has the same shape as GET /generations/{id}.
        got = await client.get(response.headers["location"], headers=keys.headers())
        assert set(got.json()["data"]) == set(body)

        done = await wait_for(client, keys, body["id"])
        assert done["status"] == "success", done
        assert done["outputImage"]["alias"] == "@fox"
        image = await client.get(done["outputImage"]["storageUrl"])
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
        assert await charges(running, body["id"]) == {"charged": 1}


async def test_async_in_the_body_and_refusals_stay_synchronous(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    async with serving(app):
        accepted = await client.post(
            GENERATIONS, headers=keys.headers(), json={"prompt": "a lighthouse", "async": True}
        )
        assert accepted.status_code == 202, accepted.text
        assert "preference-applied" not in accepted.headers
        assert (await wait_for(client, keys, accepted.json()["data"]["id"]))["status"] == "success"

        # What a synchronous request refuses is refused at once: nothing is queued.
        refused = await client.post(
            GENERATIONS,
            headers={**keys.headers(), "Prefer": "respond-async"},
            json={"prompt": "x", "aspectRatio": "7:3"},
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
        missing = await client.post(
            GENERATIONS,
            headers=keys.headers(),
            json={"prompt": "@nothing-here at night", "async": True},
        )
        assert missing.status_code == 400 and "@nothing-here" in missing.json()["error"]["message"]
        listed = await client.get(GENERATIONS, headers=keys.headers())
        assert listed.json()["pagination"]["total"] == 1


async def test_without_async_the_answer_is_the_finished_generation(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    response = await client.post(GENERATIONS, headers=keys.headers(), json={"prompt": "a boat"})
    assert response.status_code == 201
    assert response.json()["data"]["status"] == "success"
    assert "location" not in response.headers


async def test_transient_provider_failures_are_retried_with_backoff(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    async with serving(app) as running:
        flaky = FlakySynthesizer(running.synthesizer, failures=2)
        running.synthesizer = flaky
        response = await client.post(
            GENERATIONS, headers=keys.headers(), json={"prompt": "a kite", "async": True}
        )
        generation_id = response.json()["data"]["id"]
        done = await wait_for(client, keys, generation_id)
        assert done["status"] == "success", done
        assert flaky.calls == 3
        assert await charges(running, generation_id) == {"charged": 1}
        async with running.sessionmaker() as session:
            row = await session.get(Generation, generation_id)
            assert row is not None and row.job_attempts == 3


async def test_retries_end_and_a_permanent_failure_is_not_retried(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    async with serving(app) as running:
        running.settings.job_max_attempts = 2
        flaky = FlakySynthesizer(running.synthesizer, failures=5)
        running.synthesizer = flaky
        first = await client.post(
            GENERATIONS, headers=keys.headers(), json={"prompt": "a kite", "async": True}
        )
        failed = await wait_for(client, keys, first.json()["data"]["id"])
        assert (failed["status"], failed["errorCode"], flaky.calls) == (
            "failed",
            "PROVIDER_ERROR",
            2,
        )
        assert await charges(running, failed["id"]) == {}

        blocked = FlakySynthesizer(
            flaky.inner, failures=5, error=ContentBlocked("blocked", reason="SAFETY")
        )
        running.synthesizer = blocked
        second = await client.post(
            GENERATIONS, headers=keys.headers(), json={"prompt": "a kite", "async": True}
        )
        done = await wait_for(client, keys, second.json()["data"]["id"])
        assert (done["errorCode"], blocked.calls) == ("CONTENT_BLOCKED", 1)
        assert await charges(running, done["id"]) == {}


async def test_a_job_delivered_twice_runs_once(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    """No lifespan here: the jobs are run by hand, twice at once."""
    rt: Runtime = app.state.runtime
    held = HeldSynthesizer(rt.synthesizer)
    rt.synthesizer = held
    response = await client.post(
        GENERATIONS, headers=keys.headers(), json={"prompt": "a cat", "async": True}
    )
    generation_id = response.json()["data"]["id"]
    both = asyncio.gather(runner.run_job(rt, generation_id), runner.run_job(rt, generation_id))
    deadline = time.monotonic() + 10
    while held.started < 1:  # one of them is at the model
        assert time.monotonic() < deadline, "no run reached the model"
        await asyncio.sleep(0.01)
    held.release()
    await both
    assert held.started == 1
    assert (await wait_for(client, keys, generation_id))["status"] == "success"
    await runner.run_job(rt, generation_id)  # a late duplicate: nothing pending, nothing done
    assert held.started == 1
    assert await charges(rt, generation_id) == {"charged": 1}


async def test_a_queued_generation_deleted_before_it_ran_costs_nothing(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    """Deleted while still queued: its reservation goes with it at once (not 15 minutes later),
    and its job, when it comes, finds nothing to run and ends."""
    rt: Runtime = app.state.runtime
    response = await client.post(
        GENERATIONS, headers=keys.headers(), json={"prompt": "a kite", "async": True}
    )
    generation_id = response.json()["data"]["id"]
    assert await charges(rt, generation_id) == {"reserved": 1}
    deleted = await client.delete(f"{GENERATIONS}/{generation_id}", headers=keys.headers())
    assert deleted.status_code == 200, deleted.text
    assert await charges(rt, generation_id) == {}
    used = await client.get("/api/v1/usage", headers=keys.headers())
    assert used.json()["data"]["used"] == 0
    await asyncio.wait_for(runner.run_job(rt, generation_id), 10)
    assert await charges(rt, generation_id) == {}


async def test_a_pending_job_survives_a_restart(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, settings: Settings
) -> None:
    """Queued while no process runs jobs (this app's lifespan never starts); the next process
    takes it at its start."""
    response = await client.post(
        GENERATIONS, headers=keys.headers(), json={"prompt": "a tower", "async": True}
    )
    generation_id = response.json()["data"]["id"]
    assert response.json()["data"]["status"] == "pending"
    await app.state.runtime.close()  # the first process goes

    second = create_app(settings)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await wait_for(http, keys, generation_id))["status"] == "success"
    await second.state.runtime.close()


async def test_a_dead_workers_queued_generation_goes_back_to_the_queue(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    """The sweep that fails a synchronous generation of a dead process (INTERRUPTED) puts a
    queued one back to `pending`, keeping its reservation, and queues it again."""
    rt: Runtime = app.state.runtime
    response = await client.post(
        GENERATIONS, headers=keys.headers(), json={"prompt": "a bridge", "async": True}
    )
    generation_id = response.json()["data"]["id"]
    async with rt.sessionmaker() as session:  # a worker that has since died took it
        row = await session.get(Generation, generation_id)
        assert row is not None
        row.status, row.owner = "processing", "dead-worker"
        await session.commit()
    report = await sweep(
        rt.sessionmaker, rt.settings, also_dead=frozenset({"dead-worker"}), queue=rt.jobs
    )
    assert (report.requeued, report.interrupted) == (1, 0)
    got = (await client.get(f"{GENERATIONS}/{generation_id}", headers=keys.headers())).json()
    assert (got["data"]["status"], got["data"]["errorCode"]) == ("pending", None)
    assert await charges(rt, generation_id) == {"reserved": 1}
    await runner.run_job(rt, generation_id)
    assert (await wait_for(client, keys, generation_id))["status"] == "success"
    assert await charges(rt, generation_id) == {"charged": 1}


async def test_queue_depth_and_age_are_in_metrics(client: httpx.AsyncClient, keys: Keys) -> None:
    for prompt in ("one", "two"):
        await client.post(
            GENERATIONS, headers=keys.headers(), json={"prompt": prompt, "async": True}
        )
    text = (await client.get("/metrics")).text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples["banatie_jobs_queued"] == 2
    assert samples["banatie_jobs_queued_oldest_age_seconds"] >= 0


async def test_an_async_retry_with_the_same_idempotency_key_queues_once(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    headers = {**keys.headers(), "Idempotency-Key": "async-2", "Prefer": "respond-async"}
    one = await client.post(GENERATIONS, headers=headers, json={"prompt": "a gate"})
    again = await client.post(GENERATIONS, headers=headers, json={"prompt": "a gate"})
    assert (one.status_code, again.status_code) == (202, 202)
    assert one.json()["data"]["id"] == again.json()["data"]["id"]
    assert again.headers["location"] == one.headers["location"]
    listed = await client.get(GENERATIONS, headers=keys.headers(), params={"status": "pending"})
    assert listed.json()["pagination"]["total"] == 1
