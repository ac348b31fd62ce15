"""What finishes an image's deletion or new content once the change is committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from banatie.delivery.state import Delivery
from banatie.recovery import deletions as blob_deletions
from banatie.storage.base import BlobStore


@dataclass(frozen=True)
class ImageCleanup:
    """The parts of the runtime an image's removal touches (`Runtime.image_cleanup`)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    delivery: Delivery
    # `Runtime.image_changed`: what this process keeps of the image is not served again.
    image_changed: Callable[[str, str], None]

    async def finish(self, image_id: str, key: str, deletion_id: str) -> None:
        """After the commit: this process stops serving the old content, the purge outbox
        wakes, and the blobs under `key` go (the queued deletion retries if the store is
        down)."""
        self.image_changed(image_id, key)
        self.delivery.outbox.wake()
        await blob_deletions.attempt(self.sessionmaker, self.blobs, deletion_id, key)
