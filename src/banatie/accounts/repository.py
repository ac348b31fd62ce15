"""SQL for organizations, projects and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.keys import display_prefix, hash_key
from banatie.accounts.models import ApiKey, Bootstrap, Organization, Project
from banatie.db.base import utcnow


async def get_organization_by_slug(session: AsyncSession, slug: str) -> Organization | None:
    result = await session.execute(select(Organization).where(Organization.slug == slug))
    return result.scalar_one_or_none()


async def get_project_by_slug(
    session: AsyncSession, organization_id: str, slug: str
) -> Project | None:
    result = await session.execute(
        select(Project).where(Project.organization_id == organization_id, Project.slug == slug)
    )
    return result.scalar_one_or_none()


async def get_project_by_slugs(
    session: AsyncSession, organization_slug: str, project_slug: str
) -> Project | None:
    result = await session.execute(
        select(Project)
        .join(Organization, Organization.id == Project.organization_id)
        .where(Organization.slug == organization_slug, Project.slug == project_slug)
    )
    return result.scalar_one_or_none()


async def get_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    result = await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
    return result.unique().scalar_one_or_none()


async def get_key(session: AsyncSession, organization_id: str, key_id: str) -> ApiKey | None:
    result = await session.execute(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.organization_id == organization_id)
    )
    return result.unique().scalar_one_or_none()


async def find_keys(
    session: AsyncSession, organization_id: str, reference: str
) -> Sequence[ApiKey]:
    """Keys whose id starts with `reference`, or, for `bnt_…`, whose shown prefix starts with it
    (a whole secret matches its own hash)."""
    if reference.startswith("bnt_"):
        match = (
            ApiKey.key_hash == hash_key(reference)
            if len(reference) > len(display_prefix(reference))
            else ApiKey.key_prefix.startswith(reference, autoescape=True)
        )
    else:
        match = ApiKey.id.startswith(reference, autoescape=True)
    result = await session.execute(
        select(ApiKey).where(ApiKey.organization_id == organization_id, match)
    )
    return result.unique().scalars().all()


async def list_keys(session: AsyncSession, organization_id: str) -> Sequence[ApiKey]:
    result = await session.execute(
        select(ApiKey)
        .where(ApiKey.organization_id == organization_id)
        .order_by(ApiKey.created_at.desc())
    )
    return result.unique().scalars().all()


async def claim_bootstrap(session: AsyncSession) -> bool:
    """Insert the installation's bootstrap marker; False when it is there already.

    A concurrent claim waits for the first one's transaction (PostgreSQL: the row's unique
    index; SQLite: the write lock) and then inserts nothing."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Bootstrap).values(id=1, completed_at=utcnow())
    result = await session.execute(statement.on_conflict_do_nothing().returning(Bootstrap.id))
    return result.first() is not None


async def count_organizations(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).select_from(Organization))
    return int(result.scalar_one())


async def count_keys(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).select_from(ApiKey))
    return int(result.scalar_one())


async def touch_keys(session: AsyncSession, used: dict[str, datetime]) -> None:
    for key_id, at in used.items():
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=at))


async def list_projects(session: AsyncSession, organization_id: str) -> Sequence[Project]:
    result = await session.execute(
        select(Project).where(Project.organization_id == organization_id).order_by(Project.slug)
    )
    return result.unique().scalars().all()
