"""SQL for generations."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.db.paging import fetch_page
from banatie.generation.models import Generation


async def get(session: AsyncSession, project_id: str, generation_id: str) -> Generation | None:
    result = await session.execute(
        select(Generation).where(
            Generation.project_id == project_id, Generation.id == generation_id
        )
    )
    return result.scalar_one_or_none()


async def list_generations(
    session: AsyncSession,
    project_id: str,
    *,
    flow_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
    namespace: str | None = None,
) -> tuple[list[Generation], int]:
    query = select(Generation).where(Generation.project_id == project_id)
    if namespace is not None:
        query = query.where(Generation.namespace == namespace)
    if flow_id is not None:
        query = query.where(Generation.flow_id == flow_id)
    if status is not None:
        query = query.where(Generation.status == status)
    return await fetch_page(
        session, query, Generation.created_at.desc(), Generation.id, limit=limit, offset=offset
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
