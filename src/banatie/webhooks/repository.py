"""SQL for webhooks: endpoints, the signing secret, and the delivery outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.db.paging import PageRequest, fetch_page, project_row
from banatie.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookSigningSecret


async def get_endpoint(
    session: AsyncSession, project_id: str, endpoint_id: str
) -> WebhookEndpoint | None:
    return await project_row(session, WebhookEndpoint, project_id, id=endpoint_id)


async def list_endpoints(
    session: AsyncSession, project_id: str, paging: PageRequest
) -> tuple[list[WebhookEndpoint], int]:
    order = (WebhookEndpoint.created_at, WebhookEndpoint.id)
    return await fetch_page(session, WebhookEndpoint, *order, at=paging, project_id=project_id)


async def enabled_endpoints(session: AsyncSession, project_id: str) -> list[WebhookEndpoint]:
    rows = await session.execute(
        select(WebhookEndpoint).where(
            WebhookEndpoint.project_id == project_id, WebhookEndpoint.enabled.is_(True)
        )
    )
    return list(rows.scalars().all())


async def signing_secret(session: AsyncSession, project_id: str) -> WebhookSigningSecret | None:
    return await session.get(WebhookSigningSecret, project_id)


async def ensure_signing_secret(session: AsyncSession, project_id: str, secret: str) -> None:
    """The project's signing secret, made with `secret` unless it has one: INSERT … ON
    CONFLICT DO NOTHING, so a concurrent first use never fails the caller's transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    statement = dialect.insert(WebhookSigningSecret).values(
        project_id=project_id, secret=secret, created_at=now, updated_at=now
    )
    await session.execute(statement.on_conflict_do_nothing())


async def get_delivery(
    session: AsyncSession, project_id: str, delivery_id: str
) -> WebhookDelivery | None:
    return await project_row(session, WebhookDelivery, project_id, id=delivery_id)


class DeliveryFilters(TypedDict, total=False):
    """What a delivery log is narrowed to (absent or None: any)."""

    endpoint_id: str | None
    status: str | None


async def list_deliveries(
    session: AsyncSession, project_id: str, paging: PageRequest, **filters: Unpack[DeliveryFilters]
) -> tuple[list[WebhookDelivery], int]:
    order = (WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    return await fetch_page(
        session, WebhookDelivery, *order, at=paging, project_id=project_id, **filters
    )


# -- the dispatcher's side ----------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds until `lease` ends: its attempt number `attempt`, recorded
    only if the row is still at `version` (nobody took it over meanwhile)."""

    id: str
    version: int
    attempt: int
    message_id: str
    payload: dict[str, Any]
    url: str | None
    secret: str | None
    enabled: bool


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_seconds: float, limit: int
) -> list[Claimed]:
    """Take up to `limit` due pending deliveries for `lease_seconds`. On PostgreSQL the rows
    are read `FOR UPDATE SKIP LOCKED` (replicas polling together take different rows); on every
    database a row is taken only if its version is still the one read (SQLite's processes)."""
    rows = (
        await session.execute(
            select(WebhookDelivery, WebhookEndpoint, WebhookSigningSecret.secret)
            .outerjoin(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .outerjoin(
                WebhookSigningSecret,
                WebhookSigningSecret.project_id == WebhookDelivery.project_id,
            )
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
    ).all()
    claimed: list[Claimed] = []
    lease_until = now + timedelta(seconds=lease_seconds)
    for delivery, endpoint, project_secret in rows:
        taken = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery.id,
                WebhookDelivery.version == delivery.version,
                WebhookDelivery.status == "pending",
            )
            .values(version=delivery.version + 1, next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            continue  # another dispatcher has it
        claimed.append(
            Claimed(
                id=delivery.id,
                version=delivery.version + 1,
                attempt=delivery.attempts + 1,
                message_id=delivery.message_id,
                payload=dict(delivery.payload),
                url=endpoint.url if endpoint is not None else delivery.url,
                secret=endpoint.secret if endpoint is not None else project_secret,
                enabled=endpoint.enabled if endpoint is not None else True,
            )
        )
    return claimed


async def record_attempt(session: AsyncSession, claimed: Claimed, values: dict[str, Any]) -> bool:
    """Store the outcome of `claimed`'s attempt, unless its lease was taken over."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.id, WebhookDelivery.version == claimed.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def release(session: AsyncSession, claimed: Claimed, now: datetime) -> None:
    """Give an unsent claim back at once (a dispatcher stopping)."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.id, WebhookDelivery.version == claimed.version)
        .values(version=claimed.version + 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
