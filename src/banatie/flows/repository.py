"""SQL for flows: the page of a project's flows and what each holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.paging import PageRequest, fetch_page, project_row
from banatie.flows.models import Flow
from banatie.generation.models import Generation
from banatie.images.models import Image


@dataclass(frozen=True)
class FlowStats:
    generation_count: int = 0
    image_count: int = 0
    last_generated_at: datetime | None = None


async def get(session: AsyncSession, project_id: str, flow_id: str) -> Flow | None:
    return await project_row(session, Flow, project_id, id=flow_id)


async def list_flows(
    session: AsyncSession, project_id: str, paging: PageRequest
) -> tuple[list[Flow], int]:
    order = (Flow.updated_at.desc(), Flow.id)
    return await fetch_page(session, Flow, *order, at=paging, project_id=project_id)


async def stats(session: AsyncSession, flow_ids: list[str]) -> dict[str, FlowStats]:
    if not flow_ids:
        return {}
    generations = await session.execute(
        select(Generation.flow_id, func.count(), func.max(Generation.created_at))
        .where(Generation.flow_id.in_(flow_ids))
        .group_by(Generation.flow_id)
    )
    images = await session.execute(
        select(Image.flow_id, func.count())
        .where(Image.flow_id.in_(flow_ids))
        .group_by(Image.flow_id)
    )
    image_counts = {str(flow_id): int(count) for flow_id, count in images.all()}
    out = {flow_id: FlowStats(image_count=image_counts.get(flow_id, 0)) for flow_id in flow_ids}
    for flow_id, count, last in generations.all():
        if flow_id is not None:
            out[flow_id] = FlowStats(int(count), image_counts.get(flow_id, 0), last)
    return out


async def existing_image_ids(session: AsyncSession, project_id: str, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    result = await session.execute(
        select(Image.id).where(Image.project_id == project_id, Image.id.in_(ids))
    )
    return set(result.scalars().all())


async def images_of(session: AsyncSession, flow_id: str) -> list[Image]:
    result = await session.execute(select(Image).where(Image.flow_id == flow_id))
    return list(result.scalars().all())


async def last_generation(session: AsyncSession, flow_id: str) -> Generation | None:
    result = await session.execute(
        select(Generation)
        .where(Generation.flow_id == flow_id)
        .order_by(Generation.created_at.desc(), Generation.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def earlier_steps(
    session: AsyncSession, flow_id: str, before: datetime, limit: int
) -> list[Generation]:
    """The flow's successful generations made before `before`, oldest first (at most `limit`,
    the latest ones)."""
    result = await session.execute(
        select(Generation)
        .where(
            Generation.flow_id == flow_id,
            Generation.status == "success",
            Generation.created_at < before,
        )
        .order_by(Generation.created_at.desc(), Generation.id.desc())
        .limit(limit)
    )
    return list(reversed(result.scalars().all()))


async def remove(session: AsyncSession, flow: Flow) -> int:
    """Delete the flow's generations and the flow; images still in it (aliased ones: the caller
    deleted the rest) stay, with no flow. Returns how many generations went."""
    await session.execute(update(Image).where(Image.flow_id == flow.id).values(flow_id=None))
    deleted = await session.execute(delete(Generation).where(Generation.flow_id == flow.id))
    await session.delete(flow)
    return int(getattr(deleted, "rowcount", 0) or 0)
