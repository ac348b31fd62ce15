"""Everything a request needs that outlives it, built once from settings (DESIGN.md §4)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from banatie.accounts.auth import LastUsedTracker
from banatie.db.engine import make_engine, make_sessionmaker
from banatie.delivery.state import Delivery, build_delivery
from banatie.images.cleanup import ImageCleanup
from banatie.imaging.pool import CpuPool
from banatie.jobs.queue import JobQueue, MemoryQueue
from banatie.live.state import LiveState
from banatie.observability import instrumented
from banatie.observability.tracing import Tracing
from banatie.observability.tracing import from_environment as tracing_from_environment
from banatie.providers.factory import Providers, make_providers
from banatie.providers.ports import AssetAnalyzer, ImageSynthesizer, PromptEnhancer
from banatie.quota.rate_limit import RateLimiter
from banatie.recovery.service import Recovery
from banatie.settings import Settings
from banatie.storage.base import BlobStore
from banatie.storage.factory import open_blob_store
from banatie.webhooks.dispatcher import Dispatcher


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    # The provider adapters make_providers chose (and the Gemini client they share); closed with
    # the runtime. `synthesizer`, `enhancer` and `analyzer` below read them.
    providers: Providers
    rate_limiter: RateLimiter
    # The bounded thread pool for pixel work (libvips), shared with the embedded providers.
    cpu: CpuPool
    # CDN purger, purge outbox worker, in-flight variant renders (banatie.delivery.state).
    delivery: Delivery
    key_tracker: LastUsedTracker
    # Sends webhooks from the outbox (banatie.webhooks); started by the app's lifespan.
    webhooks: Dispatcher
    # The job queue of async and batch generations (banatie.jobs): procrastinate on
    # PostgreSQL, in-process on SQLite. Jobs run where `banatie.jobs.runner.start` was called.
    jobs: JobQueue
    live: LiveState = field(default_factory=LiveState)
    # This process as a worker: heartbeat, recovery of dead workers' work, orphan blob sweeps.
    # Started by the app's lifespan.
    recovery: Recovery | None = None
    # OpenTelemetry spans, when OTEL_EXPORTER_OTLP_ENDPOINT is set (banatie.observability).
    tracing: Tracing = field(default_factory=Tracing)

    @property
    def synthesizer(self) -> ImageSynthesizer:
        return self.providers.synthesizer

    @synthesizer.setter
    def synthesizer(self, adapter: ImageSynthesizer) -> None:
        """Swap the adapter in a running process (a test makes the model fail this way)."""
        self.providers = replace(self.providers, synthesizer=adapter)

    @property
    def enhancer(self) -> PromptEnhancer:
        return self.providers.enhancer

    @property
    def analyzer(self) -> AssetAnalyzer:
        return self.providers.analyzer

    @property
    def instance(self) -> str:
        """This process's worker id: the owner of its generations and live claims."""
        return self.live.instance

    @property
    def image_cleanup(self) -> ImageCleanup:
        """What an image's deletion or new content needs once committed (banatie.images)."""
        return ImageCleanup(self.sessionmaker, self.blobs, self.delivery, self.image_changed)

    def image_changed(self, image_id: str, storage_key: str) -> None:
        """An image was deleted or given new content (its old blobs, under `storage_key`, go):
        what this process keeps of it must not be served again. The images service calls this
        once the change is committed; other replicas notice through the blob store and TTLs."""
        self.live.image_changed(image_id, storage_key)

    async def close(self) -> None:
        await self.live.close()
        await self.jobs.stop()  # jobs still running past the shutdown timeout are cancelled
        if self.recovery is not None:
            # After the live flights and the jobs: gives up what they left (queued generations
            # go back to the queue).
            await self.recovery.stop()
        await self.delivery.close()
        await self.webhooks.stop()
        await self.providers.aclose()
        await self.blobs.close()
        await self.engine.dispose()
        self.tracing.shutdown()  # sends the spans still buffered


def make_job_queue(settings: Settings, instance: str) -> JobQueue:
    if settings.resolved_job_queue == "memory":
        return MemoryQueue(settings.shutdown_timeout_seconds)
    if not settings.is_postgres:
        raise ValueError("BANATIE_JOB_QUEUE=postgres needs a PostgreSQL BANATIE_DATABASE_URL")
    from banatie.jobs.postgres import PostgresQueue

    return PostgresQueue(
        settings.resolved_database_url,
        shutdown_timeout=settings.shutdown_timeout_seconds,
        stale_seconds=settings.work_stale_seconds,
        worker=instance,
    )


def build_runtime(settings: Settings) -> Runtime:
    cpu = CpuPool(settings.cpu_workers)
    engine = make_engine(settings.resolved_database_url)
    sessionmaker = make_sessionmaker(engine)
    tracing = tracing_from_environment(os.environ)
    # Every adapter is timed, counted and traced (banatie.observability.instrumented).
    made = make_providers(settings, cpu)
    providers = replace(
        made,
        synthesizer=instrumented.MeasuredSynthesizer(made.synthesizer, tracing),
        enhancer=instrumented.MeasuredEnhancer(made.enhancer, tracing),
        analyzer=instrumented.MeasuredAnalyzer(made.analyzer, tracing),
    )
    blobs = instrumented.MeasuredBlobStore(open_blob_store(settings.resolved_storage_url), tracing)
    live = LiveState(
        settings.live_lru_size,
        settings.live_lru_ttl_seconds,
        settings.live_memory_cache_mb * 1024 * 1024,
        settings.live_memory_cache_seconds,
    )
    jobs = make_job_queue(settings, live.instance)
    webhooks = Dispatcher(sessionmaker, settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        blobs=blobs,
        rate_limiter=RateLimiter(settings.redis_url, settings.rate_limit_on_error),
        cpu=cpu,
        key_tracker=LastUsedTracker(sessionmaker),
        webhooks=webhooks,
        live=live,
        delivery=build_delivery(settings, engine, sessionmaker),
        providers=providers,
        recovery=Recovery(
            sessionmaker, blobs, settings, live.instance, jobs, wake=webhooks.on_commit
        ),
        jobs=jobs,
        tracing=tracing,
    )
