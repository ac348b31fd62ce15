"""What `banatie gc` does, on its own engine and blob store (the CLI has no running app)."""

from __future__ import annotations

from datetime import timedelta

from banatie.db.engine import make_engine, make_sessionmaker
from banatie.db.migrate import check_ready
from banatie.recovery import deletions, gc
from banatie.recovery.service import SweepReport, sweep
from banatie.settings import Settings
from banatie.storage.factory import open_blob_store


async def collect(
    settings: Settings, *, min_age_seconds: float, dry_run: bool
) -> tuple[SweepReport, gc.GcReport]:
    """Recover the work of stopped servers, then delete orphan blobs older than the age."""
    check_ready(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    blobs = open_blob_store(settings.resolved_storage_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        swept = SweepReport() if dry_run else await sweep(sessionmaker, settings)
        if not dry_run:
            await deletions.drain(sessionmaker, blobs)
        collected = await gc.collect_orphan_blobs(
            sessionmaker, blobs, min_age=timedelta(seconds=min_age_seconds), dry_run=dry_run
        )
    finally:
        await blobs.close()
        await engine.dispose()
    return swept, collected
