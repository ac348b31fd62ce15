"""A flow as the API shows it: the one place that turns a `Flow` row into a `FlowOut`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.flows import repository
from banatie.flows.models import Flow
from banatie.flows.schemas import FlowOut
from banatie.schemas import from_row


async def present_flows(
    session: AsyncSession, project: Project, flows: Sequence[Flow]
) -> list[FlowOut]:
    """Flows with their counts and the aliases whose image still exists (a deleted image's alias
    names nothing): two queries for the whole page, not two per flow."""
    stats = await repository.stats(session, [flow.id for flow in flows])
    named = [str(image_id) for flow in flows for image_id in (flow.aliases or {}).values()]
    alive = await repository.existing_image_ids(session, project.id, named)
    return [_present(flow, stats.get(flow.id) or repository.FlowStats(), alive) for flow in flows]


async def present_flow(session: AsyncSession, project: Project, flow: Flow) -> FlowOut:
    [out] = await present_flows(session, project, [flow])
    return out


def _present(flow: Flow, stats: repository.FlowStats, alive: set[str]) -> FlowOut:
    aliases = {str(name): str(image_id) for name, image_id in (flow.aliases or {}).items()}
    return from_row(
        FlowOut,
        flow,
        aliases={name: image_id for name, image_id in aliases.items() if image_id in alive},
        generation_count=stats.generation_count,
        image_count=stats.image_count,
        last_generated_at=stats.last_generated_at,
        meta=dict(flow.meta or {}),
    )
