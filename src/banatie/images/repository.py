"""SQL for images and their aliases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, Unpack

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.paging import PageRequest, fetch_page, project_row
from banatie.delivery.models import ImageVariant
from banatie.images.models import Image


async def get(session: AsyncSession, project_id: str, image_id: str) -> Image | None:
    return await project_row(session, Image, project_id, id=image_id)


async def get_by_alias(session: AsyncSession, project_id: str, alias: str) -> Image | None:
    result = await session.execute(
        select(Image).where(Image.project_id == project_id, Image.alias == alias)
    )
    return result.scalar_one_or_none()


async def get_many(session: AsyncSession, project_id: str, ids: Sequence[str]) -> list[Image]:
    if not ids:
        return []
    result = await session.execute(
        select(Image).where(Image.project_id == project_id, Image.id.in_(ids))
    )
    return list(result.scalars().all())


async def list_aliased(session: AsyncSession, project_id: str, *, limit: int) -> list[Image]:
    """The project's images that hold a project alias, by alias."""
    rows = await session.scalars(
        select(Image)
        .where(Image.project_id == project_id, Image.alias.is_not(None))
        .order_by(Image.alias)
        .limit(limit)
    )
    return list(rows.all())


class WorkFilters(TypedDict, total=False):
    """What lists of a project's images and of its generations are both narrowed to (absent
    or None: any)."""

    flow_id: str | None
    namespace: str | None


class Filters(WorkFilters, total=False):
    source: str | None


async def list_images(
    session: AsyncSession, project_id: str, paging: PageRequest, **filters: Unpack[Filters]
) -> tuple[list[Image], int]:
    order = (Image.created_at.desc(), Image.id)
    return await fetch_page(session, Image, *order, at=paging, project_id=project_id, **filters)


async def first_and_last_in_flow(
    session: AsyncSession, flow_id: str, source: str | None = None
) -> tuple[Image | None, Image | None]:
    query = select(Image).where(Image.flow_id == flow_id)
    if source is not None:
        query = query.where(Image.source == source)
    first = await session.execute(query.order_by(Image.created_at, Image.id).limit(1))
    last = await session.execute(query.order_by(Image.created_at.desc(), Image.id).limit(1))
    return first.scalar_one_or_none(), last.scalar_one_or_none()


async def forget_variants(session: AsyncSession, image_id: str) -> None:
    """The image's variant rows (their blobs go with the old content's prefix)."""
    await session.execute(delete(ImageVariant).where(ImageVariant.image_id == image_id))
