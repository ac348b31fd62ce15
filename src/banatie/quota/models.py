from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from banatie.accounts.models import ProjectOwned
from banatie.db.base import Base, IdMixin, TimestampMixin


class Plan(TimestampMixin, Base):
    """A plan is data. A NULL limit on the `free` plan means "the BANATIE_FREE_* setting";
    on any other plan it means unlimited."""

    __tablename__ = "plans"

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    monthly_generations: Mapped[int | None]
    rate_limit: Mapped[str | None] = mapped_column(String(40))  # `limits` syntax, e.g. 10/minute
    storage_mb: Mapped[int | None]


class UsageRecord(ProjectOwned, IdMixin, Base):
    """One row per generation attempt: `reserved` while it runs, `charged` in the same
    transaction as its image; a failed attempt's reservation is deleted (it costs nothing)."""

    __tablename__ = "usage_records"

    generation_id: Mapped[str] = mapped_column(String(36), index=True)
    # `{generationId}:{attempt}`: unique, so charging the same attempt twice is impossible.
    charge_key: Mapped[str] = mapped_column(String(80), unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM (UTC)
    status: Mapped[str] = mapped_column(String(16), default="charged")
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
