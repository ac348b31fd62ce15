"""SQL of the scrape-time gauges: work in flight and the outboxes, read from the database so
that any replica reports the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from banatie.delivery.models import CdnPurge
from banatie.generation.models import Generation
from banatie.recovery.models import BlobDeletion, Worker


@dataclass(frozen=True)
class Backlog:
    """How many rows wait, and since when the oldest does (None: none waits)."""

    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class WorkState:
    generations_in_progress: Backlog
    # Queued generations (async, batch) no worker has taken yet: the job queue's depth, and
    # since when the oldest waits.
    jobs_queued: Backlog
    cdn_purges_pending: Backlog
    cdn_purges_failed: int
    blob_deletions_pending: Backlog
    workers: int


async def _backlog(
    session: AsyncSession, column: InstrumentedAttribute[datetime], *where: ColumnElement[bool]
) -> Backlog:
    row = (await session.execute(select(func.count(), func.min(column)).where(*where))).one()
    return Backlog(int(row[0]), row[1])


async def work_state(session: AsyncSession) -> WorkState:
    failed = await session.scalar(select(func.count()).where(CdnPurge.status == "failed"))
    workers = await session.scalar(select(func.count()).select_from(Worker))
    return WorkState(
        generations_in_progress=await _backlog(
            session, Generation.updated_at, Generation.status == "processing"
        ),
        jobs_queued=await _backlog(
            session,
            Generation.created_at,
            Generation.status == "pending",
            Generation.queued.is_(True),
        ),
        cdn_purges_pending=await _backlog(
            session, CdnPurge.created_at, CdnPurge.status == "pending"
        ),
        cdn_purges_failed=int(failed or 0),
        blob_deletions_pending=await _backlog(session, BlobDeletion.created_at),
        workers=int(workers or 0),
    )
