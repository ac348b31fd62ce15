"""A batch's `webhookUrl`: `batch.completed` once, signed, when its last item finishes (the
data: the batch as `GET /api/v1/batches/{id}` shows it); a private address is refused unless
allowed, like any webhook target."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from banatie.settings import Settings
from tests.conftest import Keys
from tests.integration.jobs.test_async import serving
from tests.integration.jobs.test_batch import BATCH, wait_for_batch
from tests.support.webhook_receiver import Receiver, running_receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with the receiver (on loopback) allowed and quick retries."""
    return settings.model_copy(
        update={
            "fetch_private_urls": True,
            "webhook_retry_seconds": "0.2,0.2,0.2",
            "webhook_poll_seconds": 0.05,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


async def test_batch_completed_is_sent_once_signed_when_the_last_item_finishes(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, receiver: Receiver
) -> None:
    secret = await client.get("/api/v1/webhooks/signing-secret", headers=keys.headers())
    receiver.secret = secret.json()["data"]["secret"]
    receiver.fail_next(2)  # retried from the outbox
    async with serving(app):
        response = await client.post(
            BATCH,
            headers=keys.headers(),
            json={
                "items": [{"prompt": f"icon {n}"} for n in range(3)],
                "webhookUrl": receiver.url("/batches"),
            },
        )
        assert response.status_code == 202, response.text
        assert response.json()["data"]["webhookUrl"] == receiver.url("/batches")
        done = await wait_for_batch(client, keys, response.headers["location"])
        calls = await asyncio.to_thread(
            receiver.wait_for, lambda calls: any(c.answered == 204 for c in calls)
        )
    assert [call.answered for call in calls] == [500, 500, 204]
    assert all(call.verified for call in calls)
    assert len({call.message_id for call in calls}) == 1
    payload = calls[-1].payload
    assert payload["type"] == "batch.completed"
    assert payload["data"]["id"] == done["id"] and payload["data"]["status"] == "completed"
    assert payload["data"]["counts"]["success"] == 3
    assert payload["data"]["completedAt"] is not None


async def test_a_private_webhook_url_is_refused_by_default(
    client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    settings.fetch_private_urls = False
    refused = await client.post(
        BATCH,
        headers=keys.headers(),
        json={"items": [{"prompt": "x"}], "webhookUrl": "http://127.0.0.1:9/hook"},
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "URL_NOT_ALLOWED"
    listed = await client.get("/api/v1/generations", headers=keys.headers())
    assert listed.json()["pagination"]["total"] == 0
