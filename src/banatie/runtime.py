"""Everything a request needs that outlives it, built once from settings (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from banatie.accounts.auth import LastUsedTracker
from banatie.db.engine import make_engine, make_sessionmaker
from banatie.imaging import pool
from banatie.providers.factory import make_providers
from banatie.providers.ports import AssetAnalyzer, ImageSynthesizer, PromptEnhancer
from banatie.quota.rate_limit import RateLimiter
from banatie.settings import Settings
from banatie.storage.base import BlobStore
from banatie.storage.factory import open_blob_store


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    synthesizer: ImageSynthesizer
    enhancer: PromptEnhancer
    analyzer: AssetAnalyzer
    rate_limiter: RateLimiter
    key_tracker: LastUsedTracker = field(default_factory=LastUsedTracker)

    async def close(self) -> None:
        await self.blobs.close()
        await self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    pool.configure(settings.cpu_workers)
    engine = make_engine(settings.resolved_database_url)
    providers = make_providers(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        blobs=open_blob_store(settings.resolved_storage_url),
        synthesizer=providers.synthesizer,
        enhancer=providers.enhancer,
        analyzer=providers.analyzer,
        rate_limiter=RateLimiter(settings.redis_url),
    )
