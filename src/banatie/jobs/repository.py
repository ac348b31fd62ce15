"""SQL of the job queue's generation rows: claim, put back, list the pending ones."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.generation.models import Generation


async def claim(session: AsyncSession, generation_id: str, owner: str) -> bool:
    """`pending` -> `processing` by `owner`, in the caller's transaction. A second run of the
    same job (a duplicate delivery, a re-queued job) finds nothing pending: exactly one wins."""
    result = await session.execute(
        update(Generation)
        .where(
            Generation.id == generation_id,
            Generation.status == "pending",
            Generation.queued.is_(True),
        )
        .values(
            status="processing",
            owner=owner,
            job_attempts=Generation.job_attempts + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def put_back(session: AsyncSession, generation_id: str, owner: str | None) -> bool:
    """`processing` by `owner` -> `pending` (its reservation stays: the next run charges it)."""
    result = await session.execute(
        update(Generation)
        .where(
            Generation.id == generation_id,
            Generation.status == "processing",
            Generation.queued.is_(True),
            Generation.owner == owner if owner is not None else Generation.owner.is_(None),
        )
        .values(status="pending", owner=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def pending_ids(session: AsyncSession) -> list[str]:
    result = await session.execute(
        select(Generation.id)
        .where(Generation.status == "pending", Generation.queued.is_(True))
        .order_by(Generation.created_at)
    )
    return list(result.scalars().all())
