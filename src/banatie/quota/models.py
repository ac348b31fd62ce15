from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, IdMixin


class UsageRecord(IdMixin, Base):
    """One row per successful generation (or regeneration); `charge_key` makes it idempotent."""

    __tablename__ = "usage_records"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    generation_id: Mapped[str] = mapped_column(String(36), index=True)
    # `{generationId}:{attempt}`: unique, so charging the same attempt twice is impossible.
    charge_key: Mapped[str] = mapped_column(String(80), unique=True)
    period: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM (UTC)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
