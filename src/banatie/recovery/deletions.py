"""Blob deletions through an outbox: an image's row and its blobs cannot go in one
transaction, so the deletion of the blobs is committed with the row's (`enqueue`), tried right
after the commit (`attempt`) and, while the store is unreachable, retried with backoff by every
process (`drain`, on each worker beat, and by `banatie gc`). A delete therefore completes even
with the store down, and no blob is left behind once it is back."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.recovery.models import BlobDeletion
from banatie.storage.base import BlobStore

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 5.0
RETRY_MAX_SECONDS = 3600.0
BATCH = 100


def enqueue(session: AsyncSession, key: str) -> BlobDeletion:
    """Add the deletion of `key` and its variants to the caller's transaction."""
    deletion = BlobDeletion(key=key, attempts=0, next_attempt_at=utcnow())
    session.add(deletion)
    return deletion


async def _remove(blobs: BlobStore, key: str) -> None:
    await blobs.delete(key)
    await blobs.delete_prefix(key + "/")


async def attempt(
    sessionmaker: async_sessionmaker[AsyncSession], blobs: BlobStore, deletion_id: str, key: str
) -> bool:
    """Delete now; on failure the outbox row stays for `drain`. Never raises."""
    try:
        await _remove(blobs, key)
    except Exception as exc:
        log.warning("deleting blob %s failed; retried later: %s", key, exc)
        return False
    try:
        async with unit_of_work(sessionmaker) as session:
            await session.execute(delete(BlobDeletion).where(BlobDeletion.id == deletion_id))
    except Exception:  # the blob is gone; a later drain deletes it again (a no-op) and the row
        log.warning("blob %s deleted, its outbox row stays until the next drain", key)
    return True


def backoff(attempts: int) -> float:
    return float(min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


async def drain(
    sessionmaker: async_sessionmaker[AsyncSession], blobs: BlobStore, now: datetime | None = None
) -> int:
    """Retry every due deletion once; return how many went through."""
    now = now or utcnow()
    async with unit_of_work(sessionmaker) as session:
        due = (
            await session.execute(
                select(BlobDeletion.id, BlobDeletion.key, BlobDeletion.attempts)
                .where(BlobDeletion.next_attempt_at <= now)
                .order_by(BlobDeletion.next_attempt_at)
                .limit(BATCH)
            )
        ).all()
    done = 0
    for deletion_id, key, attempts in due:
        try:
            await _remove(blobs, key)
        except Exception as exc:
            async with unit_of_work(sessionmaker) as session:
                await session.execute(
                    update(BlobDeletion)
                    .where(BlobDeletion.id == deletion_id)
                    .values(
                        attempts=attempts + 1,
                        last_error=f"{type(exc).__name__}: {exc}"[:1000],
                        next_attempt_at=now + timedelta(seconds=backoff(attempts + 1)),
                    )
                )
            break  # the store is likely down for the rest too: the next drain goes on
        async with unit_of_work(sessionmaker) as session:
            await session.execute(delete(BlobDeletion).where(BlobDeletion.id == deletion_id))
        done += 1
    if done:
        log.info("deleted the blobs of %d earlier deletion(s)", done)
    return done
