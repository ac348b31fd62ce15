from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, IdMixin, TimestampMixin


class Flow(IdMixin, TimestampMixin, Base):
    """Generations sharing a flowId; `aliases` maps flow-scoped aliases to image ids."""

    __tablename__ = "flows"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    aliases: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
