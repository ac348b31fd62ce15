"""Delivery tables: the variants an image has (for the cap on unsigned variants and for purges)
and the durable outbox of CDN purges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, IdMixin, utcnow

#: `format` of the row for an image's decoded pixels (spec "", never counted against the cap).
DECODED_FORMAT = "pixels"


class ImageVariant(Base):
    """One row per derived blob: a variant (reserved before it is first rendered, its size set
    once stored; never written on a hit) or the image's decoded pixels. Their sizes count
    against the project's storage."""

    __tablename__ = "image_variants"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    # The last segment of the blob key `{storage_key}/v/{variant_hash}`.
    variant_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Canonical transformation as requested (before format negotiation), e.g. `w=400&format=auto`.
    spec: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(8))
    # Unsigned and not a preset or srcset width: counts against BANATIE_MAX_VARIANTS_PER_IMAGE.
    counted: Mapped[bool] = mapped_column(default=True)
    signed: Mapped[bool] = mapped_column(default=False)
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CdnPurge(IdMixin, Base):
    """A purge the CDN has not confirmed yet. Written in the same transaction as the change that
    needs it (delete, alias move, focal point), deleted once the CDN says it is done."""

    __tablename__ = "cdn_purges"
    __table_args__ = (Index("ix_cdn_purges_status_next_attempt_at", "status", "next_attempt_at"),)

    # What to purge: {"org", "project", "refs": [...], "width", "queries": [...], "imageId"}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | failed
    attempts: Mapped[int] = mapped_column(default=0)
    # Bumped by every claim, so two workers (replicas) never send the same row at once.
    version: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
