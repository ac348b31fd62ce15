"""Live URL tables: a project's live settings, its scopes, and one entry per cache key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banatie.accounts.models import ProjectOwned
from banatie.db.base import Base, IdMixin, TimestampMixin, utcnow


class LiveSettings(TimestampMixin, Base):
    """A project's abuse-control options for live URLs (no row: the server's defaults)."""

    __tablename__ = "live_settings"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # Domains whose pages may trigger generations (a domain also admits its subdomains);
    # empty: any referrer, or none.
    allowed_referrers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Refuse unsigned misses; `signing_secret` is what URLs are signed with (HMAC-SHA256).
    require_signature: Mapped[bool] = mapped_column(default=False)
    signing_secret: Mapped[str | None] = mapped_column(String(64))
    # Overrides BANATIE_LIVE_IP_RATE_LIMIT for this project (`limits` syntax).
    ip_rate_limit: Mapped[str | None] = mapped_column(String(40))
    # A request naming an unknown scope creates it (with the defaults below) unless false.
    auto_create_scopes: Mapped[bool] = mapped_column(default=True)
    default_allow_new_generations: Mapped[bool] = mapped_column(default=True)
    default_new_generations_limit: Mapped[int | None]


class LiveScope(ProjectOwned, IdMixin, TimestampMixin, Base):
    __tablename__ = "live_scopes"
    __table_args__ = (UniqueConstraint("project_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(64))
    allow_new_generations: Mapped[bool] = mapped_column(default=True)
    new_generations_limit: Mapped[int] = mapped_column(default=30)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LiveEntry(ProjectOwned, IdMixin, TimestampMixin, Base):
    """One normalised live request. `pending` while one replica generates it (the unique
    cache key is the cross-replica single-flight), `ready` with its image, `failed` with the
    error its waiters got (the next request retries). Deleting the image deletes the entry."""

    __tablename__ = "live_entries"
    __table_args__ = (Index("ix_live_entries_scope_id_status", "scope_id", "status"),)

    scope_id: Mapped[str] = mapped_column(ForeignKey("live_scopes.id", ondelete="CASCADE"))
    cache_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | ready | failed
    prompt: Mapped[str] = mapped_column(Text)
    aspect_ratio: Mapped[str] = mapped_column(String(8))
    image_size: Mapped[str | None] = mapped_column(String(8))
    template: Mapped[str | None] = mapped_column(String(32))
    auto_enhance: Mapped[bool]
    namespace: Mapped[str | None] = mapped_column(String(64))
    generation_id: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), index=True
    )
    # The claim: which process generates it, and when it last said it is still at it.
    owner: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    error_status: Mapped[int | None]
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
