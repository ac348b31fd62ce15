"""`/api/v1/generations`: create, list, fetch, delete and regenerate."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.delivery.urls import image_url
from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.generation import repository, service
from banatie.generation.models import Generation
from banatie.generation.request import image_fields
from banatie.generation.schemas import (
    DeletedGeneration,
    GenerationCreate,
    GenerationOut,
    ReferencedImage,
)
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.images.models import Image
from banatie.namespaces import service as namespaces
from banatie.quota.deps import generation_rate_limit
from banatie.runtime import Runtime
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, Offset, ok, page
from banatie.snippets import render as snippets

router = APIRouter(prefix="/api/v1/generations", tags=["generations"], responses=ERROR_RESPONSES)


async def present(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    generation: Generation,
    output: Image | None = None,
    alias_moved_from: str | None = None,
) -> GenerationOut:
    if output is None and generation.output_image_id:
        output = await image_repository.get(session, project.id, generation.output_image_id)
    output_out = images.present(output, project, rt.settings) if output else None
    base = rt.settings.delivery_base_url
    refs = [
        ReferencedImage(
            id=ref["id"],
            alias=ref.get("alias"),
            role=ref.get("role") or "reference",
            storage_url=image_url(base, project.organization.slug, project.slug, ref["id"]),
        )
        for ref in generation.referenced_images or []
    ]
    return GenerationOut(
        id=generation.id,
        project_id=generation.project_id,
        flow_id=generation.flow_id,
        status=generation.status,
        source=generation.source,
        prompt=generation.prompt,
        original_prompt=generation.original_prompt,
        auto_enhance=generation.auto_enhance,
        aspect_ratio=generation.aspect_ratio,
        image_size=generation.image_size,
        template=generation.template,
        namespace=generation.namespace,
        alias=generation.alias,
        flow_alias=generation.flow_alias,
        output_image=output_out,
        variants=output_out.variants if output_out else {},
        referenced_images=refs,
        detected_language=generation.detected_language,
        enhancer=generation.enhancer,
        synthesizer=generation.synthesizer,
        model=generation.model,
        token_usage=dict(generation.token_usage or {}),
        error_code=generation.error_code,
        error_message=generation.error_message,
        processing_time_ms=generation.processing_time_ms,
        meta=dict(generation.meta or {}),
        alias_moved_from=alias_moved_from,
        created_at=generation.created_at,
        updated_at=generation.updated_at,
    )


@router.post("", status_code=201, dependencies=[Depends(generation_rate_limit)])
async def create_generation(
    body: GenerationCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    flow_id = body.flow_id if "flow_id" in body.model_fields_set else service.NEW_FLOW
    result = await service.create(
        runtime,
        session,
        project,
        service.GenerationInput(
            **image_fields(body),
            reference_images=body.reference_images,
            alias=body.alias,
            flow_alias=body.flow_alias,
            meta=body.meta,
        ),
        flow_id=flow_id,
    )
    return ok(
        await present(
            runtime, session, project, result.generation, result.image, result.alias_moved_from
        )
    )


@router.get("")
async def list_generations(
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
    status: Literal["processing", "success", "failed"] | None = None,
    namespace: Annotated[str | None, Query(description="a namespace slug")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> ListEnvelope[GenerationOut]:
    rows, total = await repository.list_generations(
        session,
        project.id,
        flow_id=flow_id,
        status=status,
        limit=limit,
        offset=offset,
        namespace=namespaces.as_filter(namespace),
    )
    items = [await present(runtime, session, project, row) for row in rows]
    return page(items, total=total, limit=limit, offset=offset)


@router.get("/{generation_id}")
async def get_generation(
    generation_id: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    generation = await service.get(session, project, generation_id)
    return ok(await present(runtime, session, project, generation))


@router.post("/{generation_id}/regenerate", dependencies=[Depends(generation_rate_limit)])
async def regenerate_generation(
    generation_id: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    generation = await service.get(session, project, generation_id)
    result = await service.regenerate(runtime, session, project, generation)
    return ok(
        await present(
            runtime, session, project, result.generation, result.image, result.alias_moved_from
        )
    )


@router.delete("/{generation_id}")
async def delete_generation(
    generation_id: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedGeneration]:
    generation = await service.get(session, project, generation_id)
    image_deleted = await service.delete(runtime, session, project, generation)
    return ok(DeletedGeneration(id=generation_id, output_image_deleted=image_deleted))


@router.get("/{generation_id}/snippets")
async def generation_snippets(
    generation_id: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[list[snippets.Snippet]]:
    """Working code that makes this generation again (cURL, Python and JS SDKs, OpenAI SDK, an
    MCP tool call, a live URL) and HTML that places its image."""
    generation = await service.get(session, project, generation_id)
    out = await present(runtime, session, project, generation)
    return ok(snippets.for_generation(snippets.where(runtime.settings, project), out))
