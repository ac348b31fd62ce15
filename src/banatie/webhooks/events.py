"""Recording events in the outbox: one `WebhookDelivery` per target, added to the caller's
session so the rows commit (or roll back) with the change they report.

Other features call these from the transaction that makes the change: the generation pipeline
when a generation reaches `success` or `failed`, batches when the last item of one finishes
(`batch.completed`, its data the batch as `GET /api/v1/batches/{id}` shows it). Targets: the
project's enabled endpoints whose event filter takes the event, and the request's own
`webhookUrl` (signed with the project's signing secret)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db import transactions
from banatie.db.base import iso_z, new_id, utcnow
from banatie.webhooks import repository, signing
from banatie.webhooks.models import WebhookDelivery
from banatie.webhooks.schemas import EventType

Wake = Callable[[], Awaitable[None]]


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Target:
    endpoint_id: str | None
    url: str | None


async def targets(
    session: AsyncSession, project_id: str, event_type: EventType, webhook_url: str | None
) -> list[Target]:
    """Who is told about `event_type`: the project's enabled endpoints that take it, and the
    request's own `webhookUrl`."""
    found = [
        Target(endpoint.id, None)
        for endpoint in await repository.enabled_endpoints(session, project_id)
        if not endpoint.events or event_type in endpoint.events
    ]
    if webhook_url:
        found.append(Target(None, webhook_url))
    return found


async def queue(
    session: AsyncSession,
    to: list[Target],
    *,
    project_id: str,
    event_type: EventType,
    data: dict[str, Any],
    wake: Wake | None = None,
) -> None:
    """Add the event's deliveries to `to` to the session (one `webhook-id` for all of them);
    `wake` (the dispatcher's) runs once the caller's transaction has committed."""
    if not to:
        return
    if any(target.url for target in to):
        await repository.ensure_signing_secret(session, project_id, signing.new_secret())
    now = utcnow()
    message_id = new_message_id()
    payload = {
        "type": event_type,
        "timestamp": iso_z(now),
        "data": data,
    }
    for target in to:
        session.add(
            WebhookDelivery(
                id=new_id(),
                project_id=project_id,
                endpoint_id=target.endpoint_id,
                url=target.url,
                message_id=message_id,
                event_type=event_type,
                payload=payload,
                status="pending",
                attempts=0,
                version=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    if wake is not None:
        transactions.after_commit(session, wake)


async def record(
    session: AsyncSession,
    *,
    project_id: str,
    event_type: EventType,
    data: dict[str, Any],
    webhook_url: str | None = None,
    wake: Wake | None = None,
) -> int:
    """Queue `event_type` with `data` for every target; returns how many."""
    to = await targets(session, project_id, event_type, webhook_url)
    await queue(session, to, project_id=project_id, event_type=event_type, data=data, wake=wake)
    return len(to)
