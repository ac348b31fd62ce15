"""Flows: generations and uploads sharing a flowId."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.errors import ValidationError
from banatie.flows.errors import FlowNotFound
from banatie.flows.models import Flow
from banatie.images.aliases import is_uuid


def need_flow(flow_alias: str | None, flow_id: object) -> None:
    """A flow alias names an image inside a flow: without one it would be silently lost."""
    if flow_alias and flow_id is None:
        raise ValidationError(
            f"flowAlias needs a flow: {flow_alias} was given with no flowId (omit flowId on a "
            "generation to start one, or pass the id of a flow)",
            details={"field": "flowAlias"},
        )


async def start(session: AsyncSession, project: Project) -> Flow:
    flow = Flow(project_id=project.id, aliases={}, meta={})
    session.add(flow)
    await session.flush()
    return flow


async def join(session: AsyncSession, project: Project, flow_id: str) -> Flow:
    """The project's flow with this id, started on first use; another project's is a 404."""
    if not is_uuid(flow_id):
        raise ValidationError(f"flowId {flow_id!r} is not a valid id")
    flow = await session.get(Flow, flow_id)
    if flow is None:
        flow = Flow(id=flow_id, project_id=project.id, aliases={}, meta={})
        session.add(flow)
        await session.flush()
    elif flow.project_id != project.id:
        raise FlowNotFound(f"flow {flow_id!r} not found")
    return flow
