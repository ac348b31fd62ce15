"""A project's usage this period: `GET /api/v1/usage` and the MCP tool `get_usage`."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.quota import service
from banatie.quota.schemas import UsageOut
from banatie.settings import Settings


async def report(session: AsyncSession, project: Project, settings: Settings) -> UsageOut:
    now = service.utcnow()
    limits = await service.limits_for(session, project, settings)
    used = await service.used_this_period(session, project.id, now)
    return UsageOut(
        plan=limits.plan,
        plan_name=limits.plan_name,
        period=service.period_of(now),
        used=used,
        limit=limits.monthly_generations,
        remaining=(
            max(0, limits.monthly_generations - used)
            if limits.monthly_generations is not None
            else None
        ),
        resets_at=service.next_reset(now),
        rate_limit=limits.rate_limit,
        storage_used_bytes=await service.storage_used(session, project.id),
        storage_derived_bytes=await service.derived_bytes(session, project.id),
        storage_limit_bytes=limits.storage_bytes,
    )
