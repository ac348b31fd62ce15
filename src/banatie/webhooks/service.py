"""Webhook endpoints, the project's signing secret and the delivery log: the rules."""

from __future__ import annotations

from typing import Any, Unpack

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from banatie import ssrf
from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.db.paging import PageRequest
from banatie.settings import Settings
from banatie.webhooks import repository, signing
from banatie.webhooks.errors import (
    DeliveryNotRedeliverable,
    WebhookDeliveryNotFound,
    WebhookNotFound,
)
from banatie.webhooks.events import Wake
from banatie.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookSigningSecret
from banatie.webhooks.repository import DeliveryFilters


async def check_target(settings: Settings, url: str, *, field: str = "url") -> None:
    """A URL webhooks may be sent to (checked again at every attempt: DNS can change)."""
    try:
        with anyio.fail_after(settings.webhook_timeout_seconds):
            await ssrf.check_url(url, allow_private=settings.fetch_private_urls, field=field)
    except TimeoutError as exc:
        raise ssrf.UrlNotAllowed(
            f"{field}: its host did not resolve within {settings.webhook_timeout_seconds:g} s",
            details={"field": field},
        ) from exc


async def create(
    settings: Settings, session: AsyncSession, project: Project, fields: dict[str, Any]
) -> WebhookEndpoint:
    await check_target(settings, fields["url"])
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=new_id(),
        project_id=project.id,
        url=fields["url"],
        description=fields.get("description"),
        events=list(dict.fromkeys(fields.get("events") or [])),
        enabled=fields.get("enabled", True),
        secret=signing.new_secret(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def get(session: AsyncSession, project: Project, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, project.id, endpoint_id)
    if endpoint is None:
        raise WebhookNotFound(f"webhook {endpoint_id!r} not found")
    return endpoint


async def list_endpoints(
    session: AsyncSession, project: Project, paging: PageRequest
) -> tuple[list[WebhookEndpoint], int]:
    return await repository.list_endpoints(session, project.id, paging)


async def update(
    settings: Settings, session: AsyncSession, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> WebhookEndpoint:
    """Change the given fields; null leaves `url`, `events` and `enabled` as they are."""
    if changes.get("url") is not None:
        await check_target(settings, changes["url"])
        endpoint.url = changes["url"]
    if changes.get("events") is not None:
        endpoint.events = list(dict.fromkeys(changes["events"]))
    if "description" in changes:
        endpoint.description = changes["description"]
    if changes.get("enabled") is not None:
        endpoint.enabled = changes["enabled"]
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def delete(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log go; deliveries not yet sent are not sent."""
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret signs every attempt from now on, retries of earlier events included."""
    endpoint.secret = signing.new_secret()
    endpoint.updated_at = utcnow()
    await session.flush()
    return endpoint


async def signing_secret(session: AsyncSession, project: Project) -> WebhookSigningSecret:
    """The project's secret for per-request `webhookUrl`s (made on first use)."""
    await repository.ensure_signing_secret(session, project.id, signing.new_secret())
    row = await repository.signing_secret(session, project.id)
    assert row is not None
    return row


async def rotate_signing_secret(session: AsyncSession, project: Project) -> WebhookSigningSecret:
    row = await signing_secret(session, project)
    row.secret = signing.new_secret()
    row.updated_at = utcnow()
    await session.flush()
    return row


async def list_deliveries(
    session: AsyncSession, project: Project, paging: PageRequest, **filters: Unpack[DeliveryFilters]
) -> tuple[list[WebhookDelivery], int]:
    """A page of the project's deliveries, the latest first, and how many match in all."""
    return await repository.list_deliveries(session, project.id, paging, **filters)


async def get_delivery(
    session: AsyncSession, project: Project, delivery_id: str
) -> WebhookDelivery:
    row = await repository.get_delivery(session, project.id, delivery_id)
    if row is None:
        raise WebhookDeliveryNotFound(f"webhook delivery {delivery_id!r} not found")
    return row


async def redeliver(
    session: AsyncSession, delivery: WebhookDelivery, wake: Wake | None = None
) -> WebhookDelivery:
    """Send a finished delivery (failed, cancelled or succeeded) again, with a fresh set of
    retries and the same `webhook-id`; one still pending is refused (409)."""
    if delivery.status == "pending":
        raise DeliveryNotRedeliverable("this delivery is still pending; it is sent as scheduled")
    now = utcnow()
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.version += 1
    delivery.next_attempt_at = now
    delivery.updated_at = now
    await session.flush()
    if wake is not None:
        transactions.after_commit(session, wake)
    return delivery
