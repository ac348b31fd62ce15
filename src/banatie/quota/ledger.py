"""The usage ledger: one row per successful generation, written in the image's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.quota.models import UsageRecord


def period_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


async def record_generation(
    session: AsyncSession, *, project_id: str, generation_id: str, attempt: int, source: str
) -> None:
    """Idempotent per generation attempt: a retried write never charges twice."""
    charge_key = f"{generation_id}:{attempt}"
    existing = await session.execute(
        select(UsageRecord.id).where(UsageRecord.charge_key == charge_key)
    )
    if existing.first() is not None:
        return
    now = utcnow()
    session.add(
        UsageRecord(
            project_id=project_id,
            generation_id=generation_id,
            charge_key=charge_key,
            period=period_of(now),
            source=source,
            created_at=now,
        )
    )
