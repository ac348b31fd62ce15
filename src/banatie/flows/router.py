"""`/api/v1/flows`: chained generations, their images and their aliases."""

from __future__ import annotations

from fastapi import APIRouter

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.flows import manage
from banatie.flows.presenters import present_flow, present_flows
from banatie.flows.schemas import DeletedFlow, FlowAliasesUpdate, FlowCreate, FlowOut
from banatie.generation import service as generation_service
from banatie.generation.presenters import present_generations, present_result
from banatie.generation.schemas import GenerationOut
from banatie.images import service as images
from banatie.images.presenters import present_image
from banatie.images.schemas import ImageOut
from banatie.path_rows import FlowDep
from banatie.quota.deps import GENERATES
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, PageQuery, ok, page

router = APIRouter(prefix="/api/v1/flows", tags=["flows"], responses=ERROR_RESPONSES)


@router.post("", status_code=201)
async def create_flow(
    body: FlowCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[FlowOut]:
    """A flow made up front (a generation without `flowId` also starts one): pass its id as
    `flowId` to generations and uploads."""
    flow = await manage.create(session, runtime.settings, project, body.aliases, body.meta)
    return ok(await present_flow(session, project, flow))


@router.get("")
async def list_flows(
    session: SessionDep, project: ProjectDep, paging: PageQuery
) -> ListEnvelope[FlowOut]:
    """The project's flows, the most recently changed first."""
    flows, total = await manage.list_flows(session, project, paging)
    items = await present_flows(session, project, flows)
    return page(items, total=total, at=paging)


@router.get("/{flow_id}")
async def get_flow(flow: FlowDep, session: SessionDep, project: ProjectDep) -> Envelope[FlowOut]:
    """The flow: its aliases, generationCount, imageCount and lastGeneratedAt."""
    return ok(await present_flow(session, project, flow))


@router.delete("/{flow_id}")
async def delete_flow(
    flow: FlowDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedFlow]:
    """Delete the flow, its generations and its images; images holding a project alias are
    kept, with no flow."""
    flow_id = flow.id
    generations, deleted, kept = await manage.delete(runtime.image_cleanup, session, project, flow)
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
    flow: FlowDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep, paging: PageQuery
) -> ListEnvelope[GenerationOut]:
    """The flow's generations, the latest first."""
    rows, total = await generation_service.list_generations(
        session, project, paging, flow_id=flow.id
    )
    items = await present_generations(session, runtime.settings, project, rows)
    return page(items, total=total, at=paging)


@router.get("/{flow_id}/images")
async def list_flow_images(
    flow: FlowDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep, paging: PageQuery
) -> ListEnvelope[ImageOut]:
    """The flow's images (generated and uploaded), the latest first."""
    rows, total = await images.list_images(session, project, paging, flow_id=flow.id)
    items = [present_image(image, project, runtime.settings) for image in rows]
    return page(items, total=total, at=paging)


@router.put("/{flow_id}/aliases")
async def set_flow_aliases(
    flow: FlowDep, body: FlowAliasesUpdate, session: SessionDep, project: ProjectDep
) -> Envelope[FlowOut]:
    """Merge `{"aliases": {"@hero": imageId}}` into the flow's aliases (null removes one). A
    flow alias is seen only by the flow's generations, before project aliases."""
    flow = await manage.set_aliases(session, project, flow, body.aliases)
    return ok(await present_flow(session, project, flow))


@router.delete("/{flow_id}/aliases/{alias}")
async def delete_flow_alias(
    flow: FlowDep, alias: str, session: SessionDep, project: ProjectDep
) -> Envelope[FlowOut]:
    """Remove one flow alias (`@hero` or `hero`); the image stays."""
    flow = await manage.remove_alias(session, flow, alias)
    return ok(await present_flow(session, project, flow))


@router.post(
    "/{flow_id}/regenerate",
    **GENERATES,
)
async def regenerate_flow(
    flow: FlowDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    """The flow's last step again, into a new image (its aliases move to it); charged."""
    step = await manage.last_step(session, flow)
    result = await generation_service.regenerate(runtime, session, project, step)
    return ok(await present_result(session, runtime.settings, project, result))
