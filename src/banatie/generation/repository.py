"""SQL for generations."""

from __future__ import annotations

from typing import Unpack

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.db.paging import PageRequest, fetch_page, project_row
from banatie.generation.models import Generation
from banatie.images.repository import WorkFilters


async def get(session: AsyncSession, project_id: str, generation_id: str) -> Generation | None:
    return await project_row(session, Generation, project_id, id=generation_id)


class Filters(WorkFilters, total=False):
    status: str | None


async def list_generations(
    session: AsyncSession, project_id: str, paging: PageRequest, **filters: Unpack[Filters]
) -> tuple[list[Generation], int]:
    order = (Generation.created_at.desc(), Generation.id)
    return await fetch_page(
        session, Generation, *order, at=paging, project_id=project_id, **filters
    )


async def claim(session: AsyncSession, generation_id: str) -> bool:
    """Mark the generation `processing` unless it already is (or waits on the job queue), in
    the caller's transaction.
    The row lock (PostgreSQL) or the write lock (SQLite) makes a concurrent claim wait for this
    transaction and then find it `processing`: exactly one of them gets True."""
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id, Generation.status.not_in(("processing", "pending")))
        .values(status="processing", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
