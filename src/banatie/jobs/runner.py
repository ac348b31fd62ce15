"""Running one job: claim the queued generation, run the pipeline, retry a transient provider
failure with backoff. Every queue adapter calls `run_job`; it is idempotent on the generation id
(the claim lets one run through), so a job delivered twice runs once and is charged once."""

from __future__ import annotations

import functools
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.transactions import unit_of_work
from banatie.errors import ApiError
from banatie.generation import service as generations
from banatie.generation.models import Generation
from banatie.jobs import batches, repository
from banatie.observability import metrics
from banatie.providers.errors import ProviderError
from banatie.runtime import Runtime

log = logging.getLogger(__name__)

CLAIMED = "the claim stands before the provider is called (a crash is recovered by the sweep)"
# Statuses of provider failures that may pass: the provider's 5xx, its rate limit, a timeout,
# the model not being offered right now.
TRANSIENT = frozenset({502, 503, 504})
MAX_BACKOFF_SECONDS = 300.0


def backoff(first: float, attempt: int) -> float:
    """Seconds before run `attempt + 1`: doubling from `first`, at most 5 minutes."""
    return float(min(MAX_BACKOFF_SECONDS, first * 2.0 ** (attempt - 1)))


async def start(rt: Runtime) -> None:
    """Run jobs in this process (`banatie worker`, or `serve` with BANATIE_JOBS_IN_SERVE)."""
    await rt.jobs.start(functools.partial(run_job, rt), concurrency=rt.settings.job_concurrency)
    if rt.recovery is not None:
        rt.recovery.on_beat.append(functools.partial(batches.finish_stragglers, rt))
    try:
        async with unit_of_work(rt.sessionmaker) as session:
            pending = await repository.pending_ids(session)
    except Exception:  # the database may come later; those jobs wait for the next start
        log.exception("could not read the pending queued generations")
        return
    rt.jobs.redeliver(pending)


async def run_job(rt: Runtime, generation_id: str) -> None:
    async with unit_of_work(rt.sessionmaker) as session:
        async with transactions.step(session, why=CLAIMED):
            claimed = await repository.claim(session, generation_id, rt.instance)
        if not claimed:
            log.info(
                "generation %s is not pending (already run or running): skipped", generation_id
            )
            return
        generation = await session.get(Generation, generation_id, populate_existing=True)
        project = await session.get(Project, generation.project_id) if generation else None
        if generation is None or project is None:
            return
        batch_id = generation.batch_id
        try:
            await generations.run_claimed(
                rt, session, project, generation, retry=functools.partial(_retry, rt)
            )
        except (ApiError, ProviderError) as exc:  # recorded on the generation (or retried)
            log.info("queued generation %s: %s", generation_id, exc)
        if batch_id is not None:
            await batches.finish_if_done(rt, session, batch_id)


async def _retry(
    rt: Runtime, session: AsyncSession, generation_id: str, exc: ProviderError
) -> bool:
    """A transient provider failure with attempts left: the attempt is rolled back, the
    generation goes back to `pending` (its reservation kept) and a job is queued after the
    backoff, in one transaction. False: record it as failed."""
    if exc.status not in TRANSIENT:
        return False
    try:
        await transactions.abandon(session)
        generation = await session.get(Generation, generation_id, populate_existing=True)
        if generation is None or generation.job_attempts >= rt.settings.job_max_attempts:
            return False
        if not await repository.put_back(session, generation_id, rt.instance):
            return False
        delay = max(
            backoff(rt.settings.job_retry_seconds, generation.job_attempts), exc.retry_after or 0
        )
        await rt.jobs.enqueue(session, [generation_id], delay=delay)
        await transactions.commit_early(session, why="a transient failure goes back on the queue")
    except Exception:
        log.exception("could not put generation %s back on the queue", generation_id)
        await transactions.abandon(session)
        return False
    metrics.JOB_RETRIES.labels(exc.code).inc()
    log.warning(
        "generation %s: %s (%s); retrying in %.1f s (attempt %d of %d)",
        generation_id,
        exc.code,
        exc.message,
        delay,
        generation.job_attempts + 1,
        rt.settings.job_max_attempts,
    )
    return True
