"""Webhook endpoints and deliveries as the API shows them."""

from __future__ import annotations

from typing import cast

from banatie.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookSigningSecret
from banatie.webhooks.schemas import (
    DeliveryOut,
    DeliveryStatus,
    SigningSecretOut,
    WebhookOut,
    WebhookWithSecret,
)


def present_webhook(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=endpoint.id,
        url=endpoint.url,
        events=list(endpoint.events or []),
        description=endpoint.description,
        enabled=endpoint.enabled,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def present_with_secret(endpoint: WebhookEndpoint) -> WebhookWithSecret:
    return WebhookWithSecret(**present_webhook(endpoint).model_dump(), secret=endpoint.secret)


def present_signing_secret(row: WebhookSigningSecret) -> SigningSecretOut:
    return SigningSecretOut(secret=row.secret, created_at=row.created_at, updated_at=row.updated_at)


def present_delivery(row: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        webhook_id=row.endpoint_id,
        url=row.url,
        message_id=row.message_id,
        event_type=row.event_type,
        status=cast(DeliveryStatus, row.status),
        attempts=row.attempts,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        created_at=row.created_at,
    )
