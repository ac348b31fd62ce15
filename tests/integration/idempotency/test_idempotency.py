"""`Idempotency-Key` on POST: a retry gets the first answer and is charged once; a concurrent
retry is told to wait; the key cannot be reused for another request; an answer that says
"try again" is not kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.generation.models import Generation
from banatie.idempotency.models import IdempotencyKey
from banatie.idempotency.repository import KEEP, forget_expired
from tests.conftest import Keys
from tests.support.synthesizers import FailingSynthesizer


async def generations(app: FastAPI) -> int:
    async with app.state.runtime.sessionmaker() as session:
        return int(
            (await session.execute(select(func.count()).select_from(Generation))).scalar_one()
        )


async def used(client: httpx.AsyncClient, keys: Keys) -> int:
    usage = await client.get("/api/v1/usage", headers=keys.headers())
    value: int = usage.json()["data"]["used"]
    return value


def post(client: httpx.AsyncClient, keys: Keys, key: str, body: dict[str, Any]) -> Any:
    return client.post(
        "/api/v1/generations", headers={**keys.headers(), "Idempotency-Key": key}, json=body
    )


async def test_a_retry_gets_the_first_answer_and_is_charged_once(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    first = await post(client, keys, "order-42", {"prompt": "a red fox"})
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await post(client, keys, "order-42", {"prompt": "a red fox"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await generations(app) == 1
    assert await used(client, keys) == 1
    # Without a key, or with another one, the same body is a new generation.
    assert (await post(client, keys, "order-43", {"prompt": "a red fox"})).status_code == 201
    assert await generations(app) == 2


async def test_concurrent_retries_make_one_generation(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    answers = await asyncio.gather(
        *(post(client, keys, "burst-1", {"prompt": "a lighthouse"}) for _ in range(8))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    made = {a.json()["data"]["id"] for a in answers if a.status_code == 201}
    assert len(made) == 1
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["error"]["code"] == "IDEMPOTENCY_KEY_IN_USE"
        assert refused.headers["Retry-After"] == "1"
    assert await generations(app) == 1
    assert await used(client, keys) == 1


async def test_a_key_used_for_another_request_is_refused(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    assert (await post(client, keys, "k-1", {"prompt": "a cat"})).status_code == 201
    other = await post(client, keys, "k-1", {"prompt": "a dog"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    elsewhere = await client.post(
        "/api/v1/enhance",
        headers={**keys.headers(), "Idempotency-Key": "k-1"},
        json={"prompt": "a cat"},
    )
    assert elsewhere.status_code == 422


async def test_keys_belong_to_the_api_key_that_sent_them(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    other = await client.post(
        "/api/admin/keys",
        headers=keys.headers("master"),
        json={"type": "project", "projectSlug": "site", "name": "second"},
    )
    second = {"X-API-Key": other.json()["data"]["key"], "Idempotency-Key": "shared"}
    mine = await post(client, keys, "shared", {"prompt": "a fox"})
    theirs = await client.post("/api/v1/generations", headers=second, json={"prompt": "a fox"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]
    assert "Idempotent-Replayed" not in theirs.headers


async def test_answers_that_say_try_again_are_not_kept(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    runtime = app.state.runtime
    working = runtime.synthesizer
    runtime.synthesizer = FailingSynthesizer()
    failed = await post(client, keys, "flaky-1", {"prompt": "a fox"})
    assert failed.status_code == 502
    runtime.synthesizer = working
    retried = await post(client, keys, "flaky-1", {"prompt": "a fox"})
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    # A refusal of the request itself is an answer: kept and repeated.
    bad = await post(client, keys, "bad-1", {"prompt": ""})
    assert bad.status_code == 400
    again = await post(client, keys, "bad-1", {"prompt": ""})
    assert again.status_code == 400 and again.headers["Idempotent-Replayed"] == "true"


async def test_refusals_under_openai_speak_openais_shape(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    """OpenAI's clients read `error.type`: the key's refusals there come in OpenAI's shape."""
    headers = {"Authorization": f"Bearer {keys.project}", "Idempotency-Key": "o-1"}
    first = await client.post(
        "/openai/v1/images/generations", headers=headers, json={"prompt": "a cat"}
    )
    assert first.status_code == 200, first.text
    other = await client.post(
        "/openai/v1/images/generations", headers=headers, json={"prompt": "a dog"}
    )
    assert other.status_code == 422
    assert other.json() == {
        "error": {
            "message": "this Idempotency-Key was used for a different request (method, URL or "
            "body); use a new key for a new request",
            "type": "invalid_request_error",
            "param": None,
            "code": "idempotency_key_reused",
        }
    }
    malformed = await client.post(
        "/openai/v1/images/generations",
        headers={**headers, "Idempotency-Key": "x" * 256},
        json={"prompt": "a cat"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["param"] == "Idempotency-Key"


async def test_a_malformed_key_is_a_400(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await post(client, keys, "x" * 256, {"prompt": "a fox"})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"param": "Idempotency-Key"}


async def test_answers_are_kept_for_a_day(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    first = await post(client, keys, "day-1", {"prompt": "a fox"})
    runtime = app.state.runtime
    async with runtime.engine.begin() as conn:
        await conn.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    again = await post(client, keys, "day-1", {"prompt": "a fox"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json()["data"]["id"] != first.json()["data"]["id"]
    # What each worker beat drops: answers past their day.
    async with runtime.engine.begin() as conn:
        await conn.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    async with unit_of_work(runtime.sessionmaker) as session:
        await forget_expired(session, utcnow() - KEEP)
    async with runtime.sessionmaker() as session:
        left = await session.execute(select(func.count()).select_from(IdempotencyKey))
        assert left.scalar_one() == 0
