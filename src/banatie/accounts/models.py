from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from banatie.db.base import Base, IdMixin, TimestampMixin


class OrganizationOwned:
    """A row of one organization, deleted with it."""

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )


class ProjectOwned:
    """A row of one project, deleted with it."""

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organizations"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Project(OrganizationOwned, IdMixin, TimestampMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("organization_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(32), default="free")

    organization: Mapped[Organization] = relationship(lazy="joined")


class ApiKey(OrganizationOwned, IdMixin, Base):
    __tablename__ = "api_keys"

    # Master keys administer an organization and have no project.
    project_id: Mapped[str | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    # Only a SHA-256 of the key is kept; the prefix lets people tell keys apart in lists.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by_key_id: Mapped[str | None] = mapped_column(String(36))

    organization: Mapped[Organization] = relationship(lazy="joined")
    project: Mapped[Project | None] = relationship(lazy="joined")


class Bootstrap(Base):
    """One row once the installation has had a master key (made by bootstrap or on the server).
    `POST /api/bootstrap/initial-key` answers only while there is none: inserting this row is
    how concurrent calls agree on the one that wins."""

    __tablename__ = "bootstrap"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    completed_at: Mapped[datetime]
