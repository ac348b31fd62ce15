"""`POST /api/v1/generations/batch` and `GET /api/v1/batches/{id}`: every item a queued
generation of its own; a batch is accepted or refused whole (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from banatie.generation.models import Batch
from banatie.jobs import batches, runner
from banatie.quota.models import UsageRecord
from banatie.runtime import Runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.integration.jobs.test_async import serving

BATCH = "/api/v1/generations/batch"


async def wait_for_batch(client: httpx.AsyncClient, keys: Keys, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    seen = set()
    while True:
        data: dict[str, Any] = (await client.get(location, headers=keys.headers())).json()["data"]
        seen.add(data["status"])
        if data["status"] == "completed":
            assert data["completedAt"], data
            data["seen"] = seen
            return data
        assert time.monotonic() < deadline, data["counts"]
        await asyncio.sleep(0.05)


async def usage(rt: Runtime) -> dict[str, int]:
    async with rt.sessionmaker() as session:
        rows = await session.execute(
            select(UsageRecord.status, func.count()).group_by(UsageRecord.status)
        )
        return {status: int(count) for status, count in rows.all()}


async def test_a_batch_runs_every_item_as_its_own_generation(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    await client.post(
        "/api/v1/namespaces",
        headers=keys.headers(),
        json={"slug": "icons", "stylePrompt": "flat line icon"},
    )
    items = [
        {"prompt": f"icon of a {thing}", "alias": f"@icon-{thing}"}
        for thing in ("house", "cart", "bell", "star")
    ]
    items.append({"prompt": "a wide banner", "aspectRatio": "16:9"})
    async with serving(app) as rt:
        response = await client.post(
            BATCH,
            headers=keys.headers(),
            json={"items": items, "namespace": "icons", "aspectRatio": "1:1"},
        )
        assert response.status_code == 202, response.text
        body = response.json()["data"]
        assert response.headers["location"] == f"/api/v1/batches/{body['id']}"
        assert body["total"] == 5 and sum(body["counts"].values()) == 5
        assert [item["index"] for item in body["items"]] == [0, 1, 2, 3, 4]

        done = await wait_for_batch(client, keys, response.headers["location"])
        assert done["counts"] == {"pending": 0, "processing": 0, "success": 5, "failed": 0}
        assert done["completedAt"] is not None
        assert [item["alias"] for item in done["items"]][:4] == [
            "@icon-house",
            "@icon-cart",
            "@icon-bell",
            "@icon-star",
        ]
        generations = [
            (
                await client.get(
                    f"/api/v1/generations/{item['generationId']}", headers=keys.headers()
                )
            ).json()["data"]
            for item in done["items"]
        ]
        assert {g["namespace"] for g in generations} == {"icons"}
        assert [g["aspectRatio"] for g in generations] == ["1:1"] * 4 + ["16:9"]  # its own wins
        icon = await client.get("/api/v1/images/@icon-bell", headers=keys.headers())
        assert icon.status_code == 200
        assert await usage(rt) == {"charged": 5}


async def test_a_batch_bigger_than_the_allowance_is_refused_whole(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, settings: Settings
) -> None:
    settings.free_monthly_generations = 3
    refused = await client.post(
        BATCH, headers=keys.headers(), json={"items": [{"prompt": f"n{i}"} for i in range(5)]}
    )
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED"
    assert (error["details"]["requested"], error["details"]["remaining"]) == (5, 3)
    assert "retry-after" in refused.headers
    listed = await client.get("/api/v1/generations", headers=keys.headers())
    assert listed.json()["pagination"]["total"] == 0
    assert await usage(app.state.runtime) == {}
    fits = await client.post(
        BATCH, headers=keys.headers(), json={"items": [{"prompt": f"n{i}"} for i in range(3)]}
    )
    assert fits.status_code == 202
    assert await usage(app.state.runtime) == {"reserved": 3}


async def test_a_batch_counts_as_that_many_requests_against_the_rate_limit(
    client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    settings.free_rate_limit = "4/minute"
    never = await client.post(
        BATCH, headers=keys.headers(), json={"items": [{"prompt": f"n{i}"} for i in range(5)]}
    )
    assert never.status_code == 429
    assert never.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "at most 4" in never.json()["error"]["message"]
    three = await client.post(
        BATCH, headers=keys.headers(), json={"items": [{"prompt": f"n{i}"} for i in range(3)]}
    )
    assert three.status_code == 202
    assert three.headers["x-ratelimit-remaining"] == "1"
    two = await client.post(
        BATCH, headers=keys.headers(), json={"items": [{"prompt": "a"}, {"prompt": "b"}]}
    )
    assert two.status_code == 429 and two.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    listed = await client.get("/api/v1/generations", headers=keys.headers())
    assert listed.json()["pagination"]["total"] == 3


async def test_bad_batches_are_400s_naming_the_item(client: httpx.AsyncClient, keys: Keys) -> None:
    bodies: list[dict[str, Any]] = [
        {"items": []},
        {"items": [{"prompt": "x"}] * 51},
        {"items": [{"prompt": "x", "async": True}]},
        {"prompt": "x"},
    ]
    for body in bodies:
        response = await client.post(BATCH, headers=keys.headers(), json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    bad_item = await client.post(
        BATCH,
        headers=keys.headers(),
        json={"items": [{"prompt": "fine"}, {"prompt": "@missing-logo on a cup"}]},
    )
    assert bad_item.status_code == 400
    error = bad_item.json()["error"]
    assert error["message"].startswith("items[1]: ") and "@missing-logo" in error["message"]
    assert error["details"]["item"] == 1
    listed = await client.get("/api/v1/generations", headers=keys.headers())
    assert listed.json()["pagination"]["total"] == 0


async def test_a_batch_is_the_projects_own(client: httpx.AsyncClient, keys: Keys) -> None:
    missing = await client.get("/api/v1/batches/not-a-batch", headers=keys.headers())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "BATCH_NOT_FOUND"
    made = await client.post(BATCH, headers=keys.headers(), json={"items": [{"prompt": "x"}]})
    other = await client.post(
        "/api/admin/keys",
        headers=keys.headers("master"),
        json={"type": "project", "projectSlug": "other", "name": "other"},
    )
    other_key = other.json()["data"]["key"]
    response = await client.get(made.headers["location"], headers={"X-API-Key": other_key})
    assert response.status_code == 404


async def test_a_batch_whose_last_run_stopped_early_is_completed_by_a_later_beat(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    """The run that finished the last item died before it marked the batch: the recovery beat
    of a process that runs jobs completes it (once)."""
    rt: Runtime = app.state.runtime
    made = await client.post(BATCH, headers=keys.headers(), json={"items": [{"prompt": "x"}]})
    batch_id = made.json()["data"]["id"]
    item = made.json()["data"]["items"][0]["generationId"]
    await runner.run_job(rt, item)
    async with rt.sessionmaker() as session:  # as if the run had stopped before marking it
        await session.execute(update(Batch).where(Batch.id == batch_id).values(completed_at=None))
        await session.commit()
    # Completed, and already showing when: the time the beat then stores.
    before = (await client.get(made.headers["location"], headers=keys.headers())).json()["data"]
    assert before["status"] == "completed" and before["completedAt"] is not None
    assert await batches.finish_stragglers(rt) == 1
    assert await batches.finish_stragglers(rt) == 0
    after = (await client.get(made.headers["location"], headers=keys.headers())).json()["data"]
    assert after["completedAt"] == before["completedAt"]
