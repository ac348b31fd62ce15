"""New content for an existing image (a generation regenerated in place): same id, alias and
URLs, new bytes under a fresh key; the old blobs and variants go once the change is committed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.delivery.state import Delivery
from banatie.images import repository
from banatie.images.cleanup import ImageCleanup
from banatie.images.models import Image
from banatie.recovery import deletions as blob_deletions

# What new content changes in an image row; its id, alias, flow and meta stay.
CONTENT_FIELDS = (
    "storage_key",
    "mime_type",
    "size_bytes",
    "width",
    "height",
    "has_alpha",
    "file_hash",
    "focal_x",
    "focal_y",
    "analyzer",
    "alt_text",
    "description",
    "tags",
    "dominant_colors",
    "placeholder_hash",
    "namespace",
)


#: Separates the image id from the revision in the key of new content: `…/img/{id}~{rev}`.
REVISION_MARK = "~"


def revision_key(image: Image) -> str:
    """A fresh blob key for new content of `image`, beside its old one: the old blobs stay
    readable until the rows that point at the new ones are committed, and deleting the old key
    (with everything under `{key}/`) cannot touch the new one."""
    base = image.storage_key.split(REVISION_MARK, 1)[0]
    return f"{base}{REVISION_MARK}{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Replaced:
    """The content an image had before :func:`replace_content`, and its queued deletion."""

    image_id: str
    key: str
    deletion_id: str


async def replace_content(
    delivery: Delivery, session: AsyncSession, image: Image, fresh: Image
) -> Replaced:
    """Give `image` the content of `fresh` (same id, alias and URLs) in the caller's
    transaction: the CDN purge of its URLs and the deletion of its old blobs and variants are
    queued with it; :func:`drop_replaced` finishes once it is committed."""
    refs = [image.id, image.alias or ""]
    await delivery.urls_changed(session, image, refs, "regenerated in place")  # before rows go
    await repository.forget_variants(session, image.id)
    old_key = image.storage_key
    deletion = blob_deletions.enqueue(session, old_key)
    for name in CONTENT_FIELDS:
        setattr(image, name, getattr(fresh, name))
    image.updated_at = utcnow()
    await session.flush()
    return Replaced(image.id, old_key, deletion.id)


async def drop_replaced(cleanup: ImageCleanup, replaced: Replaced) -> None:
    await cleanup.finish(replaced.image_id, replaced.key, replaced.deletion_id)
