"""Batches: up to 50 generations submitted together, each queued like an async generation (its
own status, charge, alias). A batch is accepted whole or refused whole: the rate limit counts it
as that many generation requests and the monthly allowance must hold all of it, else 429 with
nothing queued or reserved. When its last item finishes, `batch.completed` goes to its
`webhookUrl` and the project's webhook endpoints (banatie.webhooks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db.base import new_id, utcnow
from banatie.db.transactions import unit_of_work
from banatie.errors import ApiError
from banatie.generation import inputs
from banatie.generation.models import UNFINISHED, Batch, Generation
from banatie.jobs import service as jobs
from banatie.jobs.errors import BatchNotFound
from banatie.jobs.schemas import SHARED_FIELDS, BatchCreate, BatchItemOut, BatchOut
from banatie.quota import service as quota
from banatie.quota.rate_limit import RateLimitState
from banatie.runtime import Runtime
from banatie.webhooks import events
from banatie.webhooks import service as webhooks

STATUSES = ("pending", "processing", "success", "failed")


async def submit(
    rt: Runtime, session: AsyncSession, project: Project, body: BatchCreate
) -> tuple[Batch, RateLimitState | None]:
    """Queue every item in the caller's unit of work; an item refused (validation, an alias
    that names nothing) refuses the batch, naming the item."""
    count = len(body.items)
    if body.webhook_url is not None:
        await webhooks.check_target(rt.settings, body.webhook_url, field="webhookUrl")
    await quota.check_allowance(session, project, rt.settings, count)
    now = utcnow()
    batch = Batch(
        id=new_id(),
        project_id=project.id,
        total=count,
        webhook_url=body.webhook_url,
        created_at=now,
        updated_at=now,
    )
    session.add(batch)
    shared = {name: getattr(body, name) for name in SHARED_FIELDS & body.model_fields_set}
    ids: list[str] = []
    for index, item in enumerate(body.items):
        unset = {k: v for k, v in shared.items() if k not in item.model_fields_set}
        data, flow_id = inputs.from_body(item.model_copy(update=unset))
        try:
            generation = await jobs.submit(
                rt, session, project, data, flow_id=flow_id, batch_id=batch.id, one_by_one=False
            )
        except ApiError as exc:
            exc.message = f"items[{index}]: {exc.message}"
            exc.details = {**(exc.details or {}), "item": index}
            raise
        generation.batch_index = index
        ids.append(generation.id)
    await session.flush()
    # One lock and one count for the whole batch (check_allowance gave the early, detailed
    # refusal; this holds it under concurrency).
    await quota.reserve_many(session, project, rt.settings, ids, source="api")  # as from_body
    await rt.jobs.enqueue(session, ids)
    # Last: a refusal rolls the whole batch back, and nothing is counted for a refused batch.
    limited = await quota.count_generation_request(
        session, project, rt.settings, rt.rate_limiter, count=count
    )
    return batch, limited


async def get(session: AsyncSession, project: Project, batch_id: str) -> Batch:
    batch = await session.get(Batch, batch_id)
    if batch is None or batch.project_id != project.id:
        raise BatchNotFound(f"batch {batch_id!r} not found")
    return batch


async def present(session: AsyncSession, batch: Batch) -> BatchOut:
    rows = (
        await session.execute(
            select(
                Generation.batch_index,
                Generation.id,
                Generation.status,
                Generation.alias,
                Generation.output_image_id,
                Generation.error_code,
                Generation.updated_at,
            )
            .where(Generation.batch_id == batch.id)
            .order_by(Generation.batch_index)
        )
    ).all()
    items = [
        BatchItemOut(
            index=index if index is not None else n,
            generation_id=generation_id,
            status=status,
            alias=alias,
            output_image_id=image_id,
            error_code=error,
        )
        for n, (index, generation_id, status, alias, image_id, error, _) in enumerate(rows)
    ]
    counts = dict.fromkeys(STATUSES, 0)
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    unfinished = sum(counts[name] for name in UNFINISHED)
    status = (
        "completed"
        if not unfinished
        else "pending"
        if counts["pending"] == len(items)
        else "processing"
    )
    completed_at = batch.completed_at
    if status == "completed" and completed_at is None:
        # The last item committed but its run has not marked the batch yet (it does so just
        # after, or the recovery beat does): the time it will store, so that a completed
        # batch always shows when.
        completed_at = max((row.updated_at for row in rows), default=batch.updated_at)
    return BatchOut(
        id=batch.id,
        status=status,
        total=batch.total,
        counts=counts,
        items=items,
        webhook_url=batch.webhook_url,
        created_at=batch.created_at,
        completed_at=completed_at,
    )


async def finish_stragglers(rt: Runtime) -> int:
    """Complete the batches whose items all finished but whose last run stopped before it could
    mark the batch (a crash right after the item's commit): run on every recovery beat by the
    processes that run jobs. How many it completed."""
    unfinished = (
        select(Generation.id)
        .where(Generation.batch_id == Batch.id, Generation.status.in_(UNFINISHED))
        .exists()
    )
    async with unit_of_work(rt.sessionmaker) as session:
        ids = list(
            (
                await session.scalars(
                    select(Batch.id).where(Batch.completed_at.is_(None), ~unfinished).limit(100)
                )
            ).all()
        )
    done = 0
    for batch_id in ids:
        async with unit_of_work(rt.sessionmaker) as session:
            done += await finish_if_done(rt, session, batch_id) is not None
    return done


async def finish_if_done(rt: Runtime, session: AsyncSession, batch_id: str) -> Batch | None:
    """After an item finished: when none is pending or processing any more, mark the batch
    completed and queue its `batch.completed` webhook event, once (the run whose conditional
    update gets the row), in the caller's transaction. The batch, when this call completed it."""
    left = await session.scalar(
        select(Generation.id)
        .where(Generation.batch_id == batch_id, Generation.status.in_(UNFINISHED))
        .limit(1)
    )
    if left is not None:
        return None
    now = utcnow()
    result = await session.execute(
        update(Batch)
        .where(Batch.id == batch_id, Batch.completed_at.is_(None))
        .values(completed_at=await _last_finished(session, batch_id) or now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    batch = await session.get(Batch, batch_id, populate_existing=True)
    if batch is not None:
        shown = await present(session, batch)
        await events.record(
            session,
            project_id=batch.project_id,
            event_type="batch.completed",
            data=shown.model_dump(mode="json", by_alias=True),
            webhook_url=batch.webhook_url,
            wake=rt.webhooks.on_commit,
        )
    return batch


async def _last_finished(session: AsyncSession, batch_id: str) -> datetime | None:
    """When the batch's last item finished: its completedAt (what `present` shows until the
    batch is marked, so marking it changes nothing a client sees)."""
    last: datetime | None = await session.scalar(
        select(func.max(Generation.updated_at)).where(Generation.batch_id == batch_id)
    )
    return last
