"""The job queue port, and the embedded default: an in-process queue.

A job is one queued generation, named by its id; the generation row (status `pending`,
`queued`) is the durable record, the queue only delivers it to a process that runs it
(`banatie.jobs.runner.run_job`). Running a job twice is harmless: the first run claims the
pending row, any other finds nothing to do.

Adapters (chosen once in `runtime.build_runtime` from `BANATIE_JOB_QUEUE`):

- `MemoryQueue` (SQLite, the embedded default): an asyncio queue in each server process. The
  enqueue happens when the request's transaction commits; a process that starts puts every
  pending queued row back on its queue, so a job survives a restart.
- `banatie.jobs.postgres.PostgresQueue` (procrastinate): the job row is written by the
  request's own transaction, and any `banatie worker` or `serve` process takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.transactions import after_commit

log = logging.getLogger(__name__)

# Runs one job: the generation's id.
RunJob = Callable[[str], Coroutine[Any, Any, None]]


class JobQueue(Protocol):
    name: str

    async def enqueue(
        self, session: AsyncSession, generation_ids: Sequence[str], *, delay: float = 0
    ) -> None:
        """Queue the generations' jobs with the caller's transaction: they exist exactly when
        it commits. `delay`: not before this many seconds (a retry's backoff)."""
        ...

    def redeliver(self, generation_ids: Sequence[str]) -> None:
        """A process starts: the pending queued generations (a queue that is not durable by
        itself puts them back; a durable one has their jobs already)."""
        ...

    async def forget_stalled(self, session: AsyncSession) -> int:
        """In the recovery sweep's transaction: drop the queue's own record of jobs whose
        worker died (their generations were put back and enqueued anew)."""
        ...

    async def start(self, run: RunJob, *, concurrency: int) -> None:
        """Run jobs in this process, at most `concurrency` at once, until `stop`."""
        ...

    async def stop(self) -> None:
        """Stop taking jobs; jobs still running after the shutdown timeout are cancelled (their
        generations go back to the queue through the recovery sweep)."""
        ...


class MemoryQueue:
    """In this process only; durable through the pending rows (`pending_on_start`)."""

    name = "memory"

    def __init__(self, shutdown_timeout: float) -> None:
        self.shutdown_timeout = shutdown_timeout
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._runners: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def enqueue(
        self, session: AsyncSession, generation_ids: Sequence[str], *, delay: float = 0
    ) -> None:
        ids = list(generation_ids)

        async def put() -> None:
            self.put(ids, delay=delay)

        after_commit(session, put)

    def put(self, generation_ids: Sequence[str], *, delay: float = 0) -> None:
        if delay <= 0:
            for generation_id in generation_ids:
                self._queue.put_nowait(generation_id)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def due() -> None:
            self._timers.discard(handle)
            self.put(generation_ids)

        handle = loop.call_later(delay, due)
        self._timers.add(handle)

    def redeliver(self, generation_ids: Sequence[str]) -> None:
        self.put(generation_ids)

    async def forget_stalled(self, session: AsyncSession) -> int:
        return 0

    async def start(self, run: RunJob, *, concurrency: int) -> None:
        self._stopping = False
        for number in range(concurrency):
            self._runners.append(
                asyncio.create_task(self._take(run), name=f"banatie-job-runner-{number}")
            )

    async def _take(self, run: RunJob) -> None:
        while True:
            generation_id = await self._queue.get()
            job = asyncio.create_task(run(generation_id))
            self._running.add(job)
            try:
                # Shielded: stopping the runner lets the job finish (up to the shutdown timeout).
                await asyncio.shield(job)
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except Exception:
                log.exception("job for generation %s failed", generation_id)
            finally:
                if job.done():
                    self._running.discard(job)

    async def stop(self) -> None:
        self._stopping = True
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        runners, self._runners = self._runners, []
        for runner in runners:
            runner.cancel()
        for runner in runners:
            with contextlib.suppress(BaseException):
                await runner
        running = {job for job in self._running if not job.done()}
        if running:
            await asyncio.wait(running, timeout=self.shutdown_timeout)
        for job in running:
            job.cancel()
        for job in running:
            with contextlib.suppress(BaseException):
                await job
        self._running.clear()
