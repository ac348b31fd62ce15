from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banatie.accounts.models import ProjectOwned
from banatie.db.base import Base, IdMixin, TimestampMixin


class Image(ProjectOwned, IdMixin, TimestampMixin, Base):
    __tablename__ = "images"
    # An alias names at most one image per project (NULLs do not collide).
    __table_args__ = (UniqueConstraint("project_id", "alias"),)

    flow_id: Mapped[str | None] = mapped_column(
        ForeignKey("flows.id", ondelete="SET NULL"), index=True
    )
    # The generation that produced it (no FK: generations also point here).
    generation_id: Mapped[str | None] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(16))  # generated | uploaded | openai
    alias: Mapped[str | None] = mapped_column(String(100))
    # The namespace it was made or uploaded in (its slug); None: none.
    namespace: Mapped[str | None] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    has_alpha: Mapped[bool] = mapped_column(default=False)
    file_hash: Mapped[str] = mapped_column(String(64))
    focal_x: Mapped[float]
    focal_y: Mapped[float]
    analyzer: Mapped[str] = mapped_column(String(32))
    alt_text: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(2000))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    dominant_colors: Mapped[list[str]] = mapped_column(JSON, default=list)
    placeholder_hash: Mapped[str | None] = mapped_column(String(100))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
