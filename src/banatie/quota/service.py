"""Plans and the monthly allowance: reserve before generating, charge with the image, release on
failure. Reservations are serialised per project, so a burst never lets more through than the
allowance (no lost update)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.accounts.service import check_slug
from banatie.db import base
from banatie.delivery.models import ImageVariant
from banatie.errors import ValidationError
from banatie.generation.models import UNFINISHED, Generation
from banatie.images.models import Image
from banatie.quota.errors import PlanNotFound, QuotaExceeded
from banatie.quota.models import Plan, UsageRecord
from banatie.quota.rate_limit import RateLimiter, RateLimitState, parse_rate
from banatie.settings import Settings

# A reservation older than this whose generation is no longer waiting or running was left by a
# process that died mid-generation: not counted. One whose generation still waits in the job
# queue counts however long the backlog is.
STALE_RESERVATION = timedelta(minutes=15)


@dataclass(frozen=True)
class Limits:
    plan: str
    plan_name: str
    monthly_generations: int | None
    rate_limit: str | None
    storage_bytes: int | None


def utcnow() -> datetime:
    """The quota clock (tests move it to cross a month boundary)."""
    return base.utcnow()


def period_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def next_reset(moment: datetime) -> datetime:
    """00:00 UTC on the 1st of the next month."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


async def limits_for(session: AsyncSession, project: Project, settings: Settings) -> Limits:
    plan = await session.get(Plan, project.plan)
    if plan is None:  # a project on a plan that was deleted keeps the free tier's limits
        plan = Plan(slug="free", name="Free")
    return effective_limits(plan, settings)


def effective_limits(plan: Plan, settings: Settings) -> Limits:
    """A plan's limits as enforced: the free plan's empty values follow the BANATIE_FREE_*
    settings; any other plan's empty value means no limit."""
    if plan.slug == "free":
        return Limits(
            plan="free",
            plan_name=plan.name,
            monthly_generations=plan.monthly_generations or settings.free_monthly_generations,
            rate_limit=plan.rate_limit or settings.free_rate_limit,
            storage_bytes=(plan.storage_mb or settings.free_storage_mb) * 1024 * 1024,
        )
    return Limits(
        plan=plan.slug,
        plan_name=plan.name,
        monthly_generations=plan.monthly_generations,
        rate_limit=plan.rate_limit,
        storage_bytes=plan.storage_mb * 1024 * 1024 if plan.storage_mb is not None else None,
    )


async def used_this_period(session: AsyncSession, project_id: str, now: datetime) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(UsageRecord)
        .where(
            UsageRecord.project_id == project_id,
            UsageRecord.period == period_of(now),
            (UsageRecord.status == "charged")
            | (UsageRecord.created_at > now - STALE_RESERVATION)
            | exists().where(
                Generation.id == UsageRecord.generation_id, Generation.status.in_(UNFINISHED)
            ),
        )
    )
    return int(result.scalar_one())


async def derived_bytes(session: AsyncSession, project_id: str) -> int:
    """What delivery made from the project's images: variants and decoded pixels."""
    result = await session.execute(
        select(func.coalesce(func.sum(ImageVariant.size_bytes), 0))
        .join(Image, Image.id == ImageVariant.image_id)
        .where(Image.project_id == project_id)
    )
    return int(result.scalar_one())


async def storage_used(session: AsyncSession, project_id: str) -> int:
    """Every byte the project stores: originals and what delivery derived from them."""
    result = await session.execute(
        select(func.coalesce(func.sum(Image.size_bytes), 0)).where(Image.project_id == project_id)
    )
    return int(result.scalar_one()) + await derived_bytes(session, project_id)


async def reserve(
    session: AsyncSession,
    project: Project,
    settings: Settings,
    *,
    generation_id: str,
    attempt: int,
    source: str,
) -> None:
    """Add a reservation to the caller's transaction, or raise QuotaExceeded (429) (and the
    caller's transaction must then roll back)."""
    await reserve_many(session, project, settings, [generation_id], attempt=attempt, source=source)


async def reserve_many(
    session: AsyncSession,
    project: Project,
    settings: Settings,
    generation_ids: Sequence[str],
    *,
    attempt: int = 1,
    source: str,
) -> None:
    """Reserve one generation each for `generation_ids` (a batch's items) at once, with one
    lock and one count; all or none (QuotaExceeded, and the caller's transaction rolls back).

    PostgreSQL: the project row is locked first, so concurrent reservations queue up.
    SQLite: the insert takes the database's write lock before the count, with the same effect.
    """
    now = utcnow()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # FOR NO KEY UPDATE: serialises reservations without conflicting with the KEY SHARE
        # locks that inserting rows referencing the project takes (no deadlock).
        await session.execute(
            select(Project.id).where(Project.id == project.id).with_for_update(key_share=True)
        )
    session.add_all(
        UsageRecord(
            project_id=project.id,
            generation_id=generation_id,
            charge_key=f"{generation_id}:{attempt}",
            period=period_of(now),
            status="reserved",
            source=source,
            created_at=now,
        )
        for generation_id in generation_ids
    )
    await session.flush()
    limits = await limits_for(session, project, settings)
    if limits.monthly_generations is None:
        return
    used = await used_this_period(session, project.id, now)
    if used > limits.monthly_generations:
        # The reservation just added stays in the caller's transaction: the caller's unit of
        # work rolls back with this error.
        reset = next_reset(now)
        raise _allowance_exceeded(
            f"monthly allowance of {limits.monthly_generations} generations on the "
            f"{limits.plan_name} plan is used up; it resets at {reset.isoformat()}",
            now,
        )


def _allowance_exceeded(message: str, now: datetime, **details: object) -> QuotaExceeded:
    """429 QUOTA_EXCEEDED for the monthly generation allowance: when it resets, Retry-After."""
    reset = next_reset(now)
    return QuotaExceeded(
        message,
        details={"limit": "monthly_generations", **details, "resetsAt": reset.isoformat()},
        headers={"Retry-After": str(int((reset - now).total_seconds()) + 1)},
    )


async def check_storage(
    session: AsyncSession, project: Project, settings: Settings, incoming_bytes: int
) -> None:
    limits = await limits_for(session, project, settings)
    if limits.storage_bytes is None:
        return
    used = await storage_used(session, project.id)
    if used + incoming_bytes > limits.storage_bytes:
        raise QuotaExceeded(
            f"storage limit of {limits.storage_bytes // (1024 * 1024)} MB on the "
            f"{limits.plan_name} plan would be exceeded ({used} bytes used); delete images "
            "or move to another plan",
            details={"limit": "storage"},
        )


async def has_room(
    session: AsyncSession, project: Project, settings: Settings, incoming_bytes: int
) -> bool:
    try:
        await check_storage(session, project, settings, incoming_bytes)
    except QuotaExceeded:
        return False
    return True


async def charge(session: AsyncSession, *, generation_id: str, attempt: int) -> None:
    """Turn the reservation into a charge, in the image's transaction. Idempotent."""
    await session.execute(
        update(UsageRecord)
        .where(UsageRecord.charge_key == f"{generation_id}:{attempt}")
        .values(status="charged")
    )


async def release(session: AsyncSession, *, generation_id: str, attempt: int) -> None:
    """A failed attempt costs nothing."""
    await session.execute(
        delete(UsageRecord).where(
            UsageRecord.charge_key == f"{generation_id}:{attempt}",
            UsageRecord.status == "reserved",
        )
    )


async def release_all(session: AsyncSession, *, generation_id: str) -> None:
    """A generation deleted before it finished (queued or running) costs nothing: what it still
    holds of the allowance is given back with it."""
    await session.execute(
        delete(UsageRecord).where(
            UsageRecord.generation_id == generation_id, UsageRecord.status == "reserved"
        )
    )


async def set_plan(session: AsyncSession, project: Project, plan_slug: str) -> Plan:
    plan = await session.get(Plan, plan_slug)
    if plan is None:
        raise PlanNotFound(f"plan {plan_slug!r} not found")
    project.plan = plan.slug
    await session.flush()
    return plan


async def list_plans(session: AsyncSession) -> list[Plan]:
    result = await session.execute(select(Plan).order_by(Plan.slug))
    return list(result.scalars().all())


async def upsert_plan(
    session: AsyncSession,
    slug: str,
    *,
    name: str | None,
    monthly_generations: int | None,
    rate_limit: str | None,
    storage_mb: int | None,
) -> Plan:
    check_slug(slug, "plan")
    for field, value in (("monthlyGenerations", monthly_generations), ("storageMb", storage_mb)):
        if value is not None and value < 0:
            raise ValidationError(f"{field} must be 0 or more (leave it empty for no limit)")
    if rate_limit is not None:
        parse_rate(rate_limit)
    plan = await session.get(Plan, slug)
    if plan is None:
        plan = Plan(slug=slug, name=name or slug.title())
        session.add(plan)
    elif name:
        plan.name = name
    plan.monthly_generations = monthly_generations
    plan.rate_limit = rate_limit
    plan.storage_mb = storage_mb
    await session.flush()
    return plan


async def count_generation_request(
    session: AsyncSession,
    project: Project,
    settings: Settings,
    limiter: RateLimiter,
    *,
    count: int = 1,
) -> RateLimitState | None:
    """One request (`count`: a batch of that many) against the plan's generation rate (API,
    regeneration or live miss); raises RateLimitExceeded past it, counting nothing. None when
    the plan has no rate limit."""
    limits = await limits_for(session, project, settings)
    if limits.rate_limit is None:
        return None
    return await limiter.hit(limits.rate_limit, "generations", project.id, cost=count)


async def check_allowance(
    session: AsyncSession, project: Project, settings: Settings, count: int
) -> None:
    """Raise QuotaExceeded unless `count` more generations fit this month's allowance (a
    batch is accepted whole or not at all; `reserve` holds it under concurrency)."""
    limits = await limits_for(session, project, settings)
    if limits.monthly_generations is None:
        return
    now = utcnow()
    remaining = max(
        0, limits.monthly_generations - await used_this_period(session, project.id, now)
    )
    if count > remaining:
        reset = next_reset(now)
        raise _allowance_exceeded(
            f"{count} generations asked, {remaining} left of the monthly allowance of "
            f"{limits.monthly_generations} on the {limits.plan_name} plan; nothing was queued "
            f"(it resets at {reset.isoformat()})",
            now,
            requested=count,
            remaining=remaining,
        )
