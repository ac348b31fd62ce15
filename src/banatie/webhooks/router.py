"""`/api/v1/webhooks`: a project's webhook endpoints, its signing secret for per-request
`webhookUrl`s, and the delivery log (docs/webhooks.md)."""

from __future__ import annotations

from fastapi import APIRouter

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, PageQuery, errors, ok, page
from banatie.webhooks import service
from banatie.webhooks.presenters import (
    present_delivery,
    present_signing_secret,
    present_webhook,
    present_with_secret,
)
from banatie.webhooks.schemas import (
    DeletedWebhook,
    DeliveryOut,
    DeliveryStatus,
    SigningSecretOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


@router.post("", status_code=201)
async def create_webhook(
    body: WebhookCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[WebhookWithSecret]:
    """Send the project's events (`events`; empty: all) to `url`, signed with the `secret` in
    this answer (Standard Webhooks). The secret is shown here and at rotation only. A private,
    loopback or link-local address is refused (400 URL_NOT_ALLOWED)."""
    endpoint = await service.create(
        runtime.settings, session, project, body.model_dump(exclude_unset=True)
    )
    return ok(present_with_secret(endpoint))


@router.get("")
async def list_webhooks(
    session: SessionDep, project: ProjectDep, paging: PageQuery
) -> ListEnvelope[WebhookOut]:
    rows, total = await service.list_endpoints(session, project, paging)
    return page([present_webhook(row) for row in rows], total=total, at=paging)


@router.get("/signing-secret")
async def get_signing_secret(
    session: SessionDep, project: ProjectDep
) -> Envelope[SigningSecretOut]:
    """The secret that signs webhooks sent to a request's own `webhookUrl` (made on first use)."""
    return ok(present_signing_secret(await service.signing_secret(session, project)))


@router.post("/signing-secret/rotate")
async def rotate_signing_secret(
    session: SessionDep, project: ProjectDep
) -> Envelope[SigningSecretOut]:
    """A new signing secret for `webhookUrl`s; it signs every attempt from now on."""
    return ok(present_signing_secret(await service.rotate_signing_secret(session, project)))


@router.get("/deliveries")
async def list_all_deliveries(
    session: SessionDep,
    project: ProjectDep,
    paging: PageQuery,
    status: DeliveryStatus | None = None,
) -> ListEnvelope[DeliveryOut]:
    """Every delivery of the project (endpoints' and `webhookUrl`s'), newest first."""
    rows, total = await service.list_deliveries(session, project, paging, status=status)
    return page([present_delivery(row) for row in rows], total=total, at=paging)


@router.post("/deliveries/{delivery_id}/redeliver", responses=errors(409))
async def redeliver(
    delivery_id: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeliveryOut]:
    """Send a failed (or cancelled, or succeeded) delivery again, with the same `webhook-id`
    and a fresh set of retries."""
    delivery = await service.get_delivery(session, project, delivery_id)
    return ok(
        present_delivery(await service.redeliver(session, delivery, runtime.webhooks.on_commit))
    )


@router.get("/{webhook_id}")
async def get_webhook(
    webhook_id: str, session: SessionDep, project: ProjectDep
) -> Envelope[WebhookOut]:
    return ok(present_webhook(await service.get(session, project, webhook_id)))


@router.put("/{webhook_id}")
async def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
) -> Envelope[WebhookOut]:
    """Change the given fields: `enabled: false` stops deliveries (those due meanwhile are
    cancelled), `events: []` takes every event."""
    endpoint = await service.get(session, project, webhook_id)
    changes = body.model_dump(exclude_unset=True)
    return ok(present_webhook(await service.update(runtime.settings, session, endpoint, changes)))


@router.delete("/{webhook_id}")
async def delete_webhook(
    webhook_id: str, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedWebhook]:
    """Delete the endpoint with its delivery log; deliveries not yet sent are dropped."""
    await service.delete(session, await service.get(session, project, webhook_id))
    return ok(DeletedWebhook(id=webhook_id))


@router.post("/{webhook_id}/rotate-secret")
async def rotate_webhook_secret(
    webhook_id: str, session: SessionDep, project: ProjectDep
) -> Envelope[WebhookWithSecret]:
    """A new secret (shown in this answer only) signs every attempt from now on."""
    endpoint = await service.get(session, project, webhook_id)
    return ok(present_with_secret(await service.rotate_secret(session, endpoint)))


@router.get("/{webhook_id}/deliveries")
async def list_webhook_deliveries(
    webhook_id: str,
    session: SessionDep,
    project: ProjectDep,
    paging: PageQuery,
    status: DeliveryStatus | None = None,
) -> ListEnvelope[DeliveryOut]:
    """The endpoint's delivery log, newest first: status, attempts, the last answer's HTTP
    status or error, and when a pending one is attempted next."""
    endpoint = await service.get(session, project, webhook_id)
    rows, total = await service.list_deliveries(
        session, project, paging, endpoint_id=endpoint.id, status=status
    )
    return page([present_delivery(row) for row in rows], total=total, at=paging)
