"""Flows: generations and uploads sharing a flowId."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.errors import NotFound, ValidationError
from banatie.flows.models import Flow
from banatie.images.aliases import is_uuid


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
        raise NotFound(f"flow {flow_id!r} not found", code="FLOW_NOT_FOUND")
    return flow
