"""Work that outlives its process: every server process registers as a worker and beats every
`BANATIE_WORK_STALE_SECONDS / 6`; any replica (each beat) marks the generations of a worker
that went silent for `BANATIE_WORK_STALE_SECONDS` failed with `INTERRUPTED`, releases their
reservations and gives their live claims back. A queued generation (async or batch,
banatie.jobs) is not failed: it goes back to `pending` with its reservation and a new job, so
another worker runs it. A worker on this host whose pid is gone is dead
at once (a restart after `kill -9` recovers immediately). Orphan blobs are collected every
`BANATIE_BLOB_GC_INTERVAL_SECONDS` (banatie.recovery.gc)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.generation import events as generation_events
from banatie.generation.models import Generation
from banatie.idempotency import repository as idempotency
from banatie.jobs import repository as jobs
from banatie.jobs.queue import JobQueue
from banatie.observability import metrics
from banatie.recovery import deletions, gc, host, repository
from banatie.settings import Settings
from banatie.storage.base import BlobStore
from banatie.webhooks.events import Wake

log = logging.getLogger(__name__)

INTERRUPTED_MESSAGE = (
    "the server process running this generation stopped before it finished; nothing was "
    "charged, regenerate it"
)


@dataclass(frozen=True)
class SweepReport:
    dead_workers: int = 0
    interrupted: int = 0
    released_claims: int = 0
    requeued: int = 0


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    me: str | None = None,
    also_dead: frozenset[str] = frozenset(),
    now: datetime | None = None,
    queue: JobQueue | None = None,
    wake: Wake | None = None,
) -> SweepReport:
    """Recover the work of dead workers (and of owners that never registered, once their
    generation is older than the stale time). `me` is never dead; `also_dead` always is (a
    process giving its own work up at shutdown). `wake`: the webhook dispatcher's after-commit
    wake, so the `generation.failed` events go out now rather than at its next poll."""
    now = now or utcnow()
    stale_before = now - timedelta(seconds=settings.work_stale_seconds)
    async with unit_of_work(sessionmaker) as session:
        rows = await repository.workers(session)
        dead = [
            w
            for w in rows
            if w.id in also_dead
            or (
                w.id != me
                and (
                    w.heartbeat_at < stale_before
                    or host.certainly_dead(w.host, w.pid, worker_id=w.id, me=me)
                )
            )
        ]
        dead_ids = {w.id for w in dead} | set(also_dead)
        alive = {w.id for w in rows} - dead_ids
        interrupted = 0
        requeued: list[str] = []
        for generation_id, owner, updated_at, queued in await repository.processing(session):
            abandoned = owner not in alive and updated_at < stale_before
            if not (owner in dead_ids or abandoned):
                continue
            if queued and queue is not None:
                if await jobs.put_back(session, generation_id, owner):
                    requeued.append(generation_id)
            elif await repository.interrupt(
                session, generation_id, owner, INTERRUPTED_MESSAGE, now
            ):
                interrupted += 1
                generation = await session.get(Generation, generation_id, populate_existing=True)
                if generation is not None:  # its generation.failed webhook, in this transaction
                    await generation_events.finished(session, settings, generation, wake=wake)
        if queue is not None:
            await queue.enqueue(session, requeued)
            await queue.forget_stalled(session)
        released = await repository.release_claims(session, dead_ids)
        await repository.forget_workers(session, dead)
    report = SweepReport(len(dead_ids), interrupted, released, len(requeued))
    metrics.generations_interrupted(interrupted)
    metrics.JOBS_REQUEUED.inc(len(requeued))
    if requeued:
        log.warning(
            "gave %d queued generation(s) of stopped worker(s) back to the job queue", len(requeued)
        )
    if interrupted or released:
        log.warning(
            "recovered the work of %d stopped server process(es): %d generation(s) marked "
            "failed (INTERRUPTED), %d live claim(s) given back",
            report.dead_workers,
            interrupted,
            released,
        )
    return report


class Recovery:
    """Per process, started and stopped by the app's lifespan: registers this process as a
    worker, beats, sweeps, and collects orphan blobs periodically."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        blobs: BlobStore,
        settings: Settings,
        instance: str,
        queue: JobQueue | None = None,
        wake: Wake | None = None,
    ) -> None:
        self.queue = queue
        self.wake = wake
        self.sessionmaker = sessionmaker
        self.blobs = blobs
        self.settings = settings
        self.instance = instance
        self._tasks: list[asyncio.Task[None]] = []
        self.registered = False
        # More sweeps for every beat, added by the features that need one (banatie.jobs).
        self.on_beat: list[Callable[[], Awaitable[object]]] = []

    @property
    def beat_seconds(self) -> float:
        return max(0.05, self.settings.work_stale_seconds / 6)

    async def start(self) -> None:
        """Register before serving (so our work always has a live owner), then recover what
        earlier processes left (a restart after a crash)."""
        try:
            await self._register()
            await sweep(
                self.sessionmaker, self.settings, me=self.instance, queue=self.queue, wake=self.wake
            )
        except Exception:  # the database may come later; the loop keeps trying
            log.exception("could not register this process as a worker; retrying")
        self._tasks.append(asyncio.create_task(self._beat_loop(), name="banatie-recovery"))
        if self.settings.blob_gc_interval_seconds > 0:
            self._tasks.append(asyncio.create_task(self._gc_loop(), name="banatie-blob-gc"))

    async def stop(self) -> None:
        """Give up our own unfinished work (live flights were cancelled) and unregister."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        if not tasks:
            return
        try:
            await sweep(
                self.sessionmaker,
                self.settings,
                also_dead=frozenset({self.instance}),
                queue=self.queue,
                wake=self.wake,
            )
            async with unit_of_work(self.sessionmaker) as session:
                await repository.unregister(session, self.instance)
        except Exception:
            log.exception("could not unregister this process; others recover its work later")

    async def _register(self) -> None:
        async with unit_of_work(self.sessionmaker) as session:
            await repository.register(
                session, self.instance, host.identity(), os.getpid(), utcnow()
            )
        self.registered = True

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.beat_seconds)
            try:
                if not self.registered:
                    await self._register()
                else:
                    async with unit_of_work(self.sessionmaker) as session:
                        alive = await repository.beat(session, self.instance, utcnow())
                    if not alive:
                        log.warning(
                            "this process was taken for dead (no heartbeat for %.0f s); "
                            "registering again",
                            self.settings.work_stale_seconds,
                        )
                        await self._register()
                await sweep(
                    self.sessionmaker,
                    self.settings,
                    me=self.instance,
                    queue=self.queue,
                    wake=self.wake,
                )
                await deletions.drain(self.sessionmaker, self.blobs)
                async with unit_of_work(self.sessionmaker) as session:
                    await idempotency.forget_expired(session, utcnow() - idempotency.KEEP)
                for extra in self.on_beat:
                    await extra()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop the heartbeat for good
                log.warning("worker heartbeat or sweep failed; retrying", exc_info=True)

    async def _gc_loop(self) -> None:
        interval = self.settings.blob_gc_interval_seconds
        while True:
            # Jittered, so that replicas started together do not list the store together.
            await asyncio.sleep(interval * random.uniform(0.5, 1.0))
            try:
                await gc.collect_orphan_blobs(
                    self.sessionmaker,
                    self.blobs,
                    min_age=timedelta(seconds=self.settings.blob_gc_min_age_seconds),
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("orphan blob collection failed; retrying later", exc_info=True)
