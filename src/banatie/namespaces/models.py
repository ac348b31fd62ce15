from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banatie.accounts.models import ProjectOwned
from banatie.db.base import Base, IdMixin, TimestampMixin


class Namespace(ProjectOwned, IdMixin, TimestampMixin, Base):
    """A project's house style: what every generation, live URL and upload in it inherits."""

    __tablename__ = "namespaces"
    __table_args__ = (UniqueConstraint("project_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    style_prompt: Mapped[str | None] = mapped_column(Text)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    negative_prompt: Mapped[str | None] = mapped_column(Text)
    # Image ids or project aliases as given (an alias follows its image when it moves).
    style_images: Mapped[list[str]] = mapped_column(JSON, default=list)
    template: Mapped[str | None] = mapped_column(String(32))
    aspect_ratio: Mapped[str | None] = mapped_column(String(8))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
