from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, IdMixin, TimestampMixin


class WebhookEndpoint(IdMixin, TimestampMixin, Base):
    """A URL of the project's that is told about its events (those in `events`; empty: all)."""

    __tablename__ = "webhook_endpoints"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    # `whsec_` + base64 of 32 random bytes; kept as is: signing (HMAC) needs the key itself.
    secret: Mapped[str] = mapped_column(String(100))


class WebhookSigningSecret(TimestampMixin, Base):
    """The project's secret for webhooks sent to a per-request `webhookUrl`."""

    __tablename__ = "webhook_signing_secrets"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(100))


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One event for one target: the outbox row, written in the transaction of the change it
    reports, and its delivery log (attempts, last answer, next attempt)."""

    __tablename__ = "webhook_deliveries"
    # The dispatchers' poll: due pending rows, oldest first.
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    # A project endpoint's delivery (its url and secret are read when sent) …
    endpoint_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # … or a per-request `webhookUrl`, signed with the project's signing secret.
    url: Mapped[str | None] = mapped_column(String(2000))
    # `webhook-id`: one per event, the same on every attempt and every target.
    message_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    # The body: {"type", "timestamp", "data"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed | cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    # Bumped by every claim: a dispatcher records an attempt only on the version it claimed.
    version: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
