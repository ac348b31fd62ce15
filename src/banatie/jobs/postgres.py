"""The job queue on PostgreSQL: procrastinate (docs/operations.md, "Choosing the job queue").

Enqueueing calls procrastinate's own SQL function (`procrastinate_defer_jobs_v1`) on the
request's session, so the job row commits or rolls back with the generation row: no job is lost
between the commit and the enqueue, and none runs for a generation that was never committed.
Its schema is applied by migration 0015. A worker (procrastinate's, inside `banatie worker` or
`serve`) is woken by LISTEN/NOTIFY and takes jobs with `SELECT … FOR UPDATE SKIP LOCKED`.

A worker killed mid-job leaves its job `doing` in procrastinate's table; what hands the work
over is Banatie's recovery sweep (banatie.recovery): it puts the dead worker's queued
generation back to `pending` and enqueues a new job in the same transaction. The stale `doing`
rows are then marked failed (`forget_stalled`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.jobs.queue import RunJob

log = logging.getLogger(__name__)

QUEUE = "generations"
TASK = "banatie.generate"


def conninfo(database_url: str) -> str:
    """psycopg's URL from SQLAlchemy's (`postgresql+psycopg://` -> `postgresql://`)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresQueue:
    name = "postgres"

    def __init__(
        self, database_url: str, *, shutdown_timeout: float, stale_seconds: float, worker: str
    ) -> None:
        self.shutdown_timeout = shutdown_timeout
        self.stale_seconds = stale_seconds
        self.worker_name = worker
        self.app = procrastinate.App(
            # Small: one connection LISTENs, the others fetch and finish jobs (the jobs
            # themselves use the app's SQLAlchemy pool). Opened only where jobs run.
            connector=procrastinate.PsycopgConnector(
                conninfo=conninfo(database_url), min_size=1, max_size=3
            )
        )
        self.app.task(name=TASK, queue=QUEUE, pass_context=True)(_task)
        self._worker: asyncio.Task[None] | None = None

    async def enqueue(
        self, session: AsyncSession, generation_ids: Sequence[str], *, delay: float = 0
    ) -> None:
        ids = list(generation_ids)
        if not ids:
            return
        rows = ", ".join(
            f"ROW(:queue, :task, 0, NULL, NULL, CAST(:args{n} AS jsonb), "
            f"CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1"
            for n in range(len(ids))
        )
        params: dict[str, Any] = {
            "queue": QUEUE,
            "task": TASK,
            "at": utcnow() + timedelta(seconds=delay) if delay > 0 else None,
        }
        params.update({f"args{n}": json.dumps({"generation_id": i}) for n, i in enumerate(ids)})
        await session.execute(text(f"SELECT procrastinate_defer_jobs_v1(ARRAY[{rows}])"), params)

    def redeliver(self, generation_ids: Sequence[str]) -> None:
        """Nothing to do: the jobs are rows of their own."""

    async def start(self, run: RunJob, *, concurrency: int) -> None:
        await self.app.open_async()
        self._worker = asyncio.create_task(
            self.app.run_worker_async(
                queues=[QUEUE],
                name=self.worker_name,
                concurrency=concurrency,
                install_signal_handlers=False,
                additional_context={"run": run},
                shutdown_graceful_timeout=self.shutdown_timeout,
                update_heartbeat_interval=max(0.5, self.stale_seconds / 6),
                stalled_worker_timeout=self.stale_seconds,
                delete_jobs="successful",
                # LISTEN/NOTIFY wakes the worker; polling is the fallback.
                fetch_job_polling_interval=2.0,
            ),
            name="banatie-job-worker",
        )

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.cancel()  # procrastinate stops gracefully: running jobs get the timeout
        with contextlib.suppress(BaseException):
            await worker
        await self.app.close_async()

    async def forget_stalled(self, session: AsyncSession) -> int:
        """Mark failed the `doing` jobs whose procrastinate worker is gone or silent for the stale
        time: their generations were put back on the queue by the sweep, with a new job."""
        result = await session.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'failed' WHERE status = 'doing' AND "
                "(worker_id IS NULL OR worker_id IN (SELECT id FROM procrastinate_workers "
                "WHERE last_heartbeat < now() - make_interval(secs => :stale)))"
            ),
            {"stale": self.stale_seconds},
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def _task(context: procrastinate.JobContext, generation_id: str) -> None:
    run: RunJob = (context.additional_context or {})["run"]
    await run(generation_id)
