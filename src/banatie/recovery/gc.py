"""Orphan blobs: an image's bytes (or variants) with no image row, left by a process killed
between writing a blob and committing its row, or between deleting a row and its blobs.

Only keys shaped like `{org}/{project}/img/{imageId}[/…]` are judged; a blob is deleted when no
image row has its id and it is older than `min_age` (so a write whose row is about to be
committed is never touched). Anything else in the store is left alone.

Two more leftovers of a crash, past the same age: what the store's interrupted writes left (the
local store's `.tmp` files), and variant rows reserved for a render that never set their size
(the size of the stored variant is filled in, or the row goes when nothing was stored)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.delivery.variants import variant_key
from banatie.images.aliases import is_uuid
from banatie.recovery import repository
from banatie.storage.base import BlobStore, StoredBlob

log = logging.getLogger(__name__)


@dataclass
class GcReport:
    scanned: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    # Keys this sweep does not judge (not an image's), left alone.
    other: int = 0
    # Interrupted writes' leftovers removed (the local store's `.tmp` files).
    leftovers: int = 0
    # Variant rows of a cut-short render: size filled in from the stored blob, or row removed.
    variants_settled: int = 0


def image_id_of(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) < 4 or parts[2] != "img":
        return None
    image_id = parts[3].split("~", 1)[0]  # `{id}~{rev}`: content regenerated in place
    return image_id if is_uuid(image_id) else None


async def collect_orphan_blobs(
    sessionmaker: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    *,
    min_age: timedelta,
    now: datetime | None = None,
    dry_run: bool = False,
) -> GcReport:
    """Delete (or with `dry_run` only count) the blobs no image row points at."""
    cutoff = (now or utcnow()) - min_age
    report = GcReport()
    async for page in blobs.list_blobs():
        candidates: dict[str, list[StoredBlob]] = {}
        for blob in page:
            report.scanned += 1
            image_id = image_id_of(blob.key)
            if image_id is None:
                report.other += 1
            elif blob.modified_at < cutoff:
                candidates.setdefault(image_id, []).append(blob)
        if not candidates:
            continue
        async with unit_of_work(sessionmaker) as session:
            existing = await repository.existing_images(session, candidates.keys())
        for image_id, found in candidates.items():
            if image_id in existing:
                continue
            for blob in found:
                if not dry_run:
                    await blobs.delete(blob.key)
                report.deleted += 1
                report.deleted_bytes += blob.size
    if report.deleted and not dry_run:
        log.info(
            "deleted %d orphan blob(s) (%d bytes) with no image row",
            report.deleted,
            report.deleted_bytes,
        )
    if not dry_run:
        report.leftovers = await blobs.remove_leftovers(cutoff)
    report.variants_settled = await settle_unfinished_variants(
        sessionmaker, blobs, cutoff, dry_run=dry_run
    )
    return report


async def settle_unfinished_variants(
    sessionmaker: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    before: datetime,
    *,
    dry_run: bool = False,
) -> int:
    """Variant rows still at size 0 since before `before`: the process rendering them died.
    The row takes the stored variant's size, or goes when nothing was stored (it held a place
    under BANATIE_MAX_VARIANTS_PER_IMAGE and its bytes did not count as storage)."""
    async with unit_of_work(sessionmaker) as session:
        rows = await repository.unfinished_variants(session, before)
    for image_id, digest, storage_key in rows:
        if dry_run:
            continue
        info = await blobs.head(variant_key(storage_key, digest))
        async with unit_of_work(sessionmaker) as session:
            await repository.settle_variant(
                session, image_id, digest, None if info is None else info.size
            )
    if rows and not dry_run:
        log.info("settled %d variant row(s) left by renders cut short", len(rows))
    return len(rows)
