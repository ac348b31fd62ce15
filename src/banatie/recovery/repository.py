"""SQL of the recovery sweep: workers, their in-flight generations, reservations and claims."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.delivery.models import ImageVariant
from banatie.generation.models import Generation
from banatie.images.models import Image
from banatie.live.models import LiveEntry
from banatie.quota.models import UsageRecord
from banatie.recovery.models import Worker


async def register(
    session: AsyncSession, worker_id: str, host: str | None, pid: int, now: datetime
) -> None:
    await session.execute(delete(Worker).where(Worker.id == worker_id))
    await session.execute(
        insert(Worker).values(id=worker_id, host=host, pid=pid, started_at=now, heartbeat_at=now)
    )


async def beat(session: AsyncSession, worker_id: str, now: datetime) -> bool:
    """False when our row is gone (another replica declared us dead)."""
    result = await session.execute(
        update(Worker).where(Worker.id == worker_id).values(heartbeat_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def unregister(session: AsyncSession, worker_id: str) -> None:
    await session.execute(delete(Worker).where(Worker.id == worker_id))


async def workers(session: AsyncSession) -> list[Worker]:
    result = await session.execute(select(Worker).execution_options(populate_existing=True))
    return list(result.scalars().all())


async def forget_workers(session: AsyncSession, seen: Iterable[Worker]) -> None:
    """Delete dead workers' rows, unless one beat since we looked (it was not dead after all)."""
    for worker in seen:
        await session.execute(
            delete(Worker).where(Worker.id == worker.id, Worker.heartbeat_at == worker.heartbeat_at)
        )


async def processing(session: AsyncSession) -> list[tuple[str, str | None, datetime, bool]]:
    """(id, owner, updated_at, queued) of every generation in flight (the status index keeps it
    small)."""
    result = await session.execute(
        select(Generation.id, Generation.owner, Generation.updated_at, Generation.queued).where(
            Generation.status == "processing"
        )
    )
    return [(row[0], row[1], row[2], bool(row[3])) for row in result.all()]


async def interrupt(
    session: AsyncSession, generation_id: str, owner: str | None, message: str, now: datetime
) -> bool:
    """Mark one generation failed (`INTERRUPTED`) and release its reservation, unless it moved
    on meanwhile. True when it was ours to mark."""
    result = await session.execute(
        update(Generation)
        .where(
            Generation.id == generation_id,
            Generation.status == "processing",
            Generation.owner == owner if owner is not None else Generation.owner.is_(None),
        )
        .values(status="failed", error_code="INTERRUPTED", error_message=message, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    await session.execute(
        delete(UsageRecord).where(
            UsageRecord.generation_id == generation_id, UsageRecord.status == "reserved"
        )
    )
    return True


async def release_claims(session: AsyncSession, owners: Collection[str]) -> int:
    """Give back the live claims of dead workers: the next request (or a waiter) claims anew."""
    if not owners:
        return 0
    result = await session.execute(
        delete(LiveEntry).where(LiveEntry.status == "pending", LiveEntry.owner.in_(owners))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def existing_images(session: AsyncSession, image_ids: Collection[str]) -> set[str]:
    found: set[str] = set()
    ids = list(image_ids)
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(Image.id).where(Image.id.in_(ids[start : start + 500]))
        )
        found.update(result.scalars().all())
    return found


async def unfinished_variants(
    session: AsyncSession, before: datetime, limit: int = 500
) -> list[tuple[str, str, str]]:
    """Variant rows reserved before `before` whose size was never set (a render or its store
    was cut short): (image id, variant hash, the image's storage key)."""
    result = await session.execute(
        select(ImageVariant.image_id, ImageVariant.variant_hash, Image.storage_key)
        .join(Image, Image.id == ImageVariant.image_id)
        .where(ImageVariant.size_bytes == 0, ImageVariant.created_at < before)
        .limit(limit)
    )
    return [(image_id, digest, key) for image_id, digest, key in result.all()]


async def settle_variant(
    session: AsyncSession, image_id: str, variant_hash: str, size_bytes: int | None
) -> None:
    """Its stored size, or (None: nothing was stored) forget the row."""
    where = (ImageVariant.image_id == image_id, ImageVariant.variant_hash == variant_hash)
    if size_bytes is None:
        await session.execute(delete(ImageVariant).where(*where, ImageVariant.size_bytes == 0))
    else:
        await session.execute(
            update(ImageVariant)
            .where(*where, ImageVariant.size_bytes == 0)
            .values(size_bytes=size_bytes)
        )
