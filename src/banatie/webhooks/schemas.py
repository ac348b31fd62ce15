"""API shapes of webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from banatie.schemas import CamelModel, RequestModel

EventType = Literal["generation.succeeded", "generation.failed", "batch.completed"]
DeliveryStatus = Literal["pending", "succeeded", "failed", "cancelled"]
_URL = "an http(s) URL on a public address; redirects are not followed"


class WebhookCreate(RequestModel):
    url: str = Field(max_length=2000, description=_URL)
    events: list[EventType] = Field(
        default_factory=list, description="the events it receives; empty: all of them"
    )
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = True


class WebhookUpdate(RequestModel):
    """Fields not given keep their values."""

    url: str | None = Field(default=None, max_length=2000, description=_URL)
    events: list[EventType] | None = Field(default=None, description="empty: all events")
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None


class WebhookOut(CamelModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookOut):
    # Shown when the endpoint is created and when its secret is rotated, never again.
    secret: str = Field(description="`whsec_…`: verify `webhook-signature` with it")


class SigningSecretOut(CamelModel):
    secret: str = Field(description="`whsec_…`: signs webhooks sent to a request's webhookUrl")
    created_at: datetime
    updated_at: datetime


class DeletedWebhook(CamelModel):
    id: str
    deleted: bool = True


class DeliveryOut(CamelModel):
    id: str
    webhook_id: str | None = Field(description="the endpoint; null: a request's webhookUrl")
    url: str | None
    message_id: str = Field(description="the `webhook-id` header, the same on every attempt")
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="while pending")
    created_at: datetime
