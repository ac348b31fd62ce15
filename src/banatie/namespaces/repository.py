"""SQL for namespaces."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.paging import PageRequest, fetch_page, project_row
from banatie.generation.models import Generation
from banatie.images.models import Image
from banatie.live.models import LiveEntry
from banatie.namespaces.models import Namespace


async def get(session: AsyncSession, project_id: str, slug: str) -> Namespace | None:
    return await project_row(session, Namespace, project_id, slug=slug)


async def list_namespaces(
    session: AsyncSession, project_id: str, paging: PageRequest
) -> tuple[list[Namespace], int]:
    return await fetch_page(session, Namespace, Namespace.slug, at=paging, project_id=project_id)


async def release_members(session: AsyncSession, project_id: str, slug: str) -> int:
    """Images and generations of the namespace keep existing without it; returns the images."""
    images = await session.execute(
        update(Image)
        .where(Image.project_id == project_id, Image.namespace == slug)
        .values(namespace=None)
    )
    await session.execute(
        update(Generation)
        .where(Generation.project_id == project_id, Generation.namespace == slug)
        .values(namespace=None)
    )
    return int(getattr(images, "rowcount", 0) or 0)


async def detach_live_entries(session: AsyncSession, project_id: str, slug: str) -> list[LiveEntry]:
    """Forget the namespace's finished live URLs (their images stay): the next request of one
    generates anew, in the namespace's current style."""
    entries = await session.execute(
        select(LiveEntry).where(
            LiveEntry.project_id == project_id,
            LiveEntry.namespace == slug,
            LiveEntry.status != "pending",
        )
    )
    detached = list(entries.scalars().all())
    for entry in detached:
        await session.delete(entry)
    return detached
