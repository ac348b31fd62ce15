"""The Free tier driven to its limits: monthly allowance, bursts, failures, rollover, rate limits,
storage, plans, on SQLite and PostgreSQL, with the limiter in memory and in Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from banatie.app import create_app
from banatie.db.transactions import unit_of_work
from banatie.generation.models import Generation
from banatie.settings import Settings
from tests.conftest import Keys, app_settings
from tests.support.synthesizers import FailingSynthesizer

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Settings:
    return app_settings(
        database_url,
        tmp_path,
        free_monthly_generations=4,
        free_rate_limit="100/minute",
        redis_url=REDIS_URL if request.param == "redis" else None,
    )


async def generate(client: httpx.AsyncClient, keys: Keys, prompt: str = "a tree") -> httpx.Response:
    return await client.post("/api/v1/generations", headers=keys.headers(), json={"prompt": prompt})


async def usage(client: httpx.AsyncClient, keys: Keys) -> dict[str, object]:
    response = await client.get("/api/v1/usage", headers=keys.headers())
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


async def test_allowance_is_enforced_and_visible(client: httpx.AsyncClient, keys: Keys) -> None:
    before = await usage(client, keys)
    assert before["plan"] == "free" and before["used"] == 0 and before["limit"] == 4
    assert before["remaining"] == 4
    for i in range(4):
        assert (await generate(client, keys, f"tree {i}")).status_code == 201
    refused = await generate(client, keys, "one too many")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED" and "resets" in error["message"]
    assert int(refused.headers["retry-after"]) > 0
    after = await usage(client, keys)
    assert after["used"] == 4 and after["remaining"] == 0
    # A refused request leaves no generation behind.
    listed = (await client.get("/api/v1/generations", headers=keys.headers())).json()
    assert listed["pagination"]["total"] == 4


async def test_concurrent_burst_never_exceeds_allowance(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    responses = await asyncio.gather(*(generate(client, keys, f"burst {i}") for i in range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 4, [r.text for r in responses if r.status_code not in (201, 429)]
    assert statuses.count(429) == 6
    assert (await usage(client, keys))["used"] == 4


async def test_failed_generation_is_not_charged(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    runtime = app.state.runtime
    real = runtime.synthesizer

    runtime.synthesizer = FailingSynthesizer("model down")
    for _ in range(6):
        assert (await generate(client, keys)).status_code == 502
    assert (await usage(client, keys))["used"] == 0
    runtime.synthesizer = real
    assert (await generate(client, keys)).status_code == 201
    assert (await usage(client, keys))["used"] == 1


async def test_regeneration_is_charged(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await generate(client, keys)).json()["data"]
    again = await client.post(
        f"/api/v1/generations/{created['id']}/regenerate", headers=keys.headers()
    )
    assert again.status_code == 200
    assert (await usage(client, keys))["used"] == 2


async def test_month_rolls_over(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import banatie.quota.service as quota_service

    monkeypatch.setattr(quota_service, "utcnow", lambda: datetime(2030, 1, 31, 23, 59, tzinfo=UTC))
    for i in range(4):
        assert (await generate(client, keys, f"jan {i}")).status_code == 201
    assert (await generate(client, keys)).status_code == 429
    january = await usage(client, keys)
    assert str(january["resetsAt"]).startswith("2030-02-01T00:00:00")
    monkeypatch.setattr(quota_service, "utcnow", lambda: datetime(2030, 2, 1, 0, 0, 1, tzinfo=UTC))
    assert (await generate(client, keys, "february")).status_code == 201
    february = await usage(client, keys)
    assert february["used"] == 1 and february["period"] == "2030-02"


async def test_a_queue_backlog_older_than_the_stale_time_still_counts(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued generations (no job runner here: they stay pending) hold their reservations however
    long they wait; only a reservation whose generation is finished expires."""
    import banatie.quota.service as quota_service

    start = datetime(2030, 1, 10, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(quota_service, "utcnow", lambda: start)
    queued = []
    for i in range(4):
        response = await client.post(
            "/api/v1/generations",
            headers=keys.headers(),
            json={"prompt": f"queued {i}", "async": True},
        )
        assert response.status_code == 202, response.text
        queued.append(response.json()["data"]["id"])
    later = start + quota_service.STALE_RESERVATION * 2
    monkeypatch.setattr(quota_service, "utcnow", lambda: later)
    assert (await generate(client, keys, "past the backlog")).status_code == 429
    assert (await usage(client, keys))["used"] == 4
    # A reservation left behind by a generation that ended without releasing it (a crash
    # between the two) is orphaned: past the stale time it no longer counts.
    async with unit_of_work(app.state.runtime.sessionmaker) as session:
        await session.execute(
            update(Generation).where(Generation.id == queued[0]).values(status="failed")
        )
    assert (await usage(client, keys))["used"] == 3
    assert (await generate(client, keys, "room again")).status_code == 201


async def test_master_moves_a_project_to_another_plan(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    from banatie.quota import service

    async with unit_of_work(app.state.runtime.sessionmaker) as session:
        await service.upsert_plan(
            session, "pro", name="Pro", monthly_generations=None, rate_limit=None, storage_mb=None
        )
    plans = await client.get("/api/admin/plans", headers=keys.headers("master"))
    assert {p["slug"] for p in plans.json()["data"]} == {"free", "pro"}
    forbidden = await client.put(
        "/api/admin/projects/site/plan", headers=keys.headers(), json={"plan": "pro"}
    )
    assert forbidden.status_code == 403
    unknown = await client.put(
        "/api/admin/projects/site/plan", headers=keys.headers("master"), json={"plan": "gold"}
    )
    assert unknown.status_code == 404
    moved = await client.put(
        "/api/admin/projects/site/plan", headers=keys.headers("master"), json={"plan": "pro"}
    )
    assert moved.status_code == 200 and moved.json()["data"]["plan"]["slug"] == "pro"
    for i in range(6):
        response = await generate(client, keys, f"pro {i}")
        assert response.status_code == 201
        assert "x-ratelimit-limit" not in response.headers
    assert (await usage(client, keys))["limit"] is None


async def test_storage_limit(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    app.state.runtime.settings.free_storage_mb = 0
    from tests.support.images import solid_png

    response = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert "storage" in response.json()["error"]["message"]
    listed = await client.get("/api/v1/images", headers=keys.headers())
    assert listed.json()["pagination"]["total"] == 0


@pytest.fixture
async def limited_app(
    settings: Settings, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """Two replicas on one database: with Redis they share one budget."""
    shared = settings.model_copy(update={"free_rate_limit": "3/minute"})
    first, second = create_app(shared), create_app(shared.model_copy())
    yield first, second
    await first.state.runtime.close()
    await second.state.runtime.close()


async def test_rate_limit_headers_and_refusal(
    limited_app: tuple[FastAPI, FastAPI], settings: Settings
) -> None:
    first, second = limited_app
    transports = [httpx.ASGITransport(app=a) for a in (first, second)]
    async with (
        httpx.AsyncClient(transport=transports[0], base_url="http://testserver") as one,
        httpx.AsyncClient(transport=transports[1], base_url="http://testserver") as two,
    ):
        org = f"org-{uuid.uuid4().hex[:8]}"
        boot = await one.post("/api/bootstrap/initial-key", json={"organizationSlug": org})
        master = boot.json()["data"]["key"]
        created = await one.post(
            "/api/admin/keys", headers={"X-API-Key": master}, json={"projectSlug": "p"}
        )
        headers = {"X-API-Key": created.json()["data"]["key"]}
        ok = await one.post("/api/v1/generations", headers=headers, json={"prompt": "a"})
        assert ok.status_code == 201
        assert ok.headers["x-ratelimit-limit"] == "3"
        assert ok.headers["x-ratelimit-remaining"] == "2"
        assert ok.headers["ratelimit-policy"] == "3;w=60"
        assert ok.headers["ratelimit"].startswith("limit=3, remaining=2, reset=")
        await one.post("/api/v1/generations", headers=headers, json={"prompt": "b"})
        # The third request goes to the other replica: shared with Redis, separate in memory.
        third = await two.post("/api/v1/generations", headers=headers, json={"prompt": "c"})
        assert third.status_code == 201
        fourth = await two.post("/api/v1/generations", headers=headers, json={"prompt": "d"})
        if settings.redis_url:
            assert fourth.status_code == 429
            error = fourth.json()["error"]
            assert error["code"] == "RATE_LIMIT_EXCEEDED" and "3/minute" in error["message"]
            assert int(fourth.headers["retry-after"]) >= 1
            assert fourth.headers["x-ratelimit-remaining"] == "0"
        else:
            assert fourth.status_code == 201
            assert (
                await two.post("/api/v1/generations", headers=headers, json={"prompt": "e"})
            ).status_code == 429
        # Reads are never rate limited.
        assert (await one.get("/api/v1/generations", headers=headers)).status_code == 200
