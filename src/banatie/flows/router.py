"""`/api/v1/flows`: chained generations, their images and their aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.flows import manage, repository
from banatie.flows.models import Flow
from banatie.flows.schemas import DeletedFlow, FlowAliasesUpdate, FlowCreate, FlowOut
from banatie.generation import repository as generation_repository
from banatie.generation import service as generation_service
from banatie.generation.present import present_generation
from banatie.generation.schemas import GenerationOut
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.images.schemas import ImageOut
from banatie.quota.deps import generation_rate_limit
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, Offset, errors, ok, page

router = APIRouter(prefix="/api/v1/flows", tags=["flows"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=100)]


async def _flow(flow_id: str, session: SessionDep, project: ProjectDep) -> Flow:
    return await manage.get(session, project, flow_id)


#: The project's flow named by the path's `flow_id` (404 FLOW_NOT_FOUND otherwise).
FlowDep = Annotated[Flow, Depends(_flow)]


async def present(
    session: AsyncSession,
    project: Project,
    flow: Flow,
    stats: repository.FlowStats | None = None,
) -> FlowOut:
    if stats is None:
        stats = (await repository.stats(session, [flow.id])).get(flow.id)
    stats = stats or repository.FlowStats()
    return FlowOut(
        id=flow.id,
        project_id=flow.project_id,
        aliases=await manage.live_aliases(session, project, flow),
        generation_count=stats.generation_count,
        image_count=stats.image_count,
        last_generated_at=stats.last_generated_at,
        meta=dict(flow.meta or {}),
        created_at=flow.created_at,
        updated_at=flow.updated_at,
    )


@router.post("", status_code=201)
async def create_flow(
    body: FlowCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[FlowOut]:
    """A flow made up front (a generation without `flowId` also starts one): pass its id as
    `flowId` to generations and uploads."""
    flow = await manage.create(runtime, session, project, body.aliases, body.meta)
    return ok(await present(session, project, flow))


@router.get("")
async def list_flows(
    session: SessionDep, project: ProjectDep, limit: Limit = 20, offset: Offset = 0
) -> ListEnvelope[FlowOut]:
    """The project's flows, the most recently changed first."""
    flows, total = await repository.list_flows(session, project.id, limit=limit, offset=offset)
    stats = await repository.stats(session, [flow.id for flow in flows])
    items = [await present(session, project, flow, stats.get(flow.id)) for flow in flows]
    return page(items, total=total, limit=limit, offset=offset)


@router.get("/{flow_id}")
async def get_flow(flow: FlowDep, session: SessionDep, project: ProjectDep) -> Envelope[FlowOut]:
    """The flow: its aliases, generationCount, imageCount and lastGeneratedAt."""
    return ok(await present(session, project, flow))


@router.delete("/{flow_id}")
async def delete_flow(
    flow: FlowDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedFlow]:
    """Delete the flow, its generations and its images; images holding a project alias are
    kept, with no flow."""
    flow_id = flow.id
    generations, deleted, kept = await manage.delete(runtime, session, project, flow)
    return ok(
        DeletedFlow(
            id=flow_id,
            generations_deleted=generations,
            images_deleted=deleted,
            images_kept=kept,
        )
    )


@router.get("/{flow_id}/generations")
async def list_flow_generations(
    flow: FlowDep,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ListEnvelope[GenerationOut]:
    """The flow's generations, the latest first."""
    rows, total = await generation_repository.list_generations(
        session, project.id, flow_id=flow.id, status=None, limit=limit, offset=offset
    )
    items = [await present_generation(runtime, session, project, row) for row in rows]
    return page(items, total=total, limit=limit, offset=offset)


@router.get("/{flow_id}/images")
async def list_flow_images(
    flow: FlowDep,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    limit: Limit = 20,
    offset: Offset = 0,
) -> ListEnvelope[ImageOut]:
    """The flow's images (generated and uploaded), the latest first."""
    rows, total = await image_repository.list_images(
        session, project.id, flow_id=flow.id, source=None, limit=limit, offset=offset
    )
    items = [images.present(image, project, runtime.settings) for image in rows]
    return page(items, total=total, limit=limit, offset=offset)


@router.put("/{flow_id}/aliases")
async def set_flow_aliases(
    flow: FlowDep, body: FlowAliasesUpdate, session: SessionDep, project: ProjectDep
) -> Envelope[FlowOut]:
    """Merge `{"aliases": {"@hero": imageId}}` into the flow's aliases (null removes one). A
    flow alias is seen only by the flow's generations, before project aliases."""
    flow = await manage.set_aliases(session, project, flow, body.aliases)
    return ok(await present(session, project, flow))


@router.delete("/{flow_id}/aliases/{alias}")
async def delete_flow_alias(
    flow: FlowDep, alias: str, session: SessionDep, project: ProjectDep
) -> Envelope[FlowOut]:
    """Remove one flow alias (`@hero` or `hero`); the image stays."""
    flow = await manage.remove_alias(session, flow, alias)
    return ok(await present(session, project, flow))


@router.post(
    "/{flow_id}/regenerate",
    dependencies=[Depends(generation_rate_limit)],
    responses=errors(409, 422, 429, 502, 504),
)
async def regenerate_flow(
    flow: FlowDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    """The flow's last step again, into a new image (its aliases move to it); charged."""
    step = await manage.last_step(session, flow)
    result = await generation_service.regenerate(runtime, session, project, step)
    return ok(
        await present_generation(
            runtime, session, project, result.generation, result.image, result.alias_moved_from
        )
    )
