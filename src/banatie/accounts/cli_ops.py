"""What `banatie keys …` and `banatie plans …` do, on their own engine (the CLI has no running
app). They work on the server's database only: a missing or unmigrated one is refused
(`DatabaseNotReady`), never created."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts import repository, service
from banatie.accounts.errors import OrganizationNotFound
from banatie.accounts.models import ApiKey, Organization
from banatie.accounts.presenters import present_key
from banatie.accounts.schemas import KeyOut
from banatie.db.engine import make_engine, make_sessionmaker
from banatie.db.migrate import check_ready
from banatie.db.transactions import unit_of_work
from banatie.quota import service as quota
from banatie.quota.models import Plan
from banatie.quota.service import Limits
from banatie.settings import Settings

T = TypeVar("T")


@asynccontextmanager
async def open_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    check_ready(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


async def _organization(session: AsyncSession, slug: str) -> Organization:
    organization = await repository.get_organization_by_slug(session, slug)
    if organization is None:
        raise OrganizationNotFound(f"no organization {slug!r}")
    return organization


async def create_key(
    settings: Settings,
    organization_slug: str,
    project_slug: str | None,
    key_type: str,
    name: str | None,
    expires_in_days: int | None,
) -> tuple[str, ApiKey]:
    async with open_session(settings) as session:
        organization = await service.ensure_organization(session, organization_slug)
        spec = service.KeySpec(key_type, project_slug, name, expires_in_days)
        issued = await service.issue_key(session, organization, spec)
        return issued.secret, issued.record


async def list_keys(settings: Settings, organization_slug: str) -> list[KeyOut]:
    async with open_session(settings) as session:
        organization = await _organization(session, organization_slug)
        return [present_key(key) for key in await service.list_keys(session, organization)]


async def revoke_key(settings: Settings, organization_slug: str, reference: str) -> KeyOut:
    async with open_session(settings) as session:
        organization = await _organization(session, organization_slug)
        record = await service.revoke_key(session, organization, reference, by_prefix=True)
        return present_key(record)


async def list_plans(settings: Settings) -> list[tuple[Plan, Limits]]:
    async with open_session(settings) as session:
        return [
            (plan, quota.effective_limits(plan, settings))
            for plan in await quota.list_plans(session)
        ]


async def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run a service call in one unit of work on the server's database."""
    async with open_session(settings) as session:
        return await work(session)
