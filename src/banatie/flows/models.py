from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import Mapped, mapped_column

from banatie.accounts.models import ProjectOwned
from banatie.db.base import Base, IdMixin, TimestampMixin


class Flow(ProjectOwned, IdMixin, TimestampMixin, Base):
    """Generations sharing a flowId; `aliases` maps flow-scoped aliases to image ids."""

    __tablename__ = "flows"

    aliases: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
