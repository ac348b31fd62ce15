"""`/api/v1/generations`: create, list, fetch, delete and regenerate."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from pydantic.alias_generators import to_camel

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.errors import ValidationError
from banatie.generation import edit, inputs, service
from banatie.generation.presenters import present_generations, present_one, present_result
from banatie.generation.schemas import (
    DeletedGeneration,
    GenerationCreate,
    GenerationOut,
    GenerationUpdate,
)
from banatie.jobs import service as jobs
from banatie.namespaces.schemas import NamespaceQuery
from banatie.path_rows import GenerationDep
from banatie.quota import service as quota
from banatie.quota.deps import GENERATES
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, PageQuery, errors, ok, page
from banatie.snippets import render as snippets

router = APIRouter(prefix="/api/v1/generations", tags=["generations"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    dependencies=GENERATES["dependencies"],
    responses={
        202: {
            "model": Envelope[GenerationOut],
            "description": 'Accepted (`Prefer: respond-async` or `"async": true`): the '
            "generation is `pending` on the job queue; poll the `Location` "
            "(GET /api/v1/generations/{id}) until it is `success` or `failed`.",
            "headers": {
                "Location": {
                    "description": "/api/v1/generations/{id}",
                    "schema": {"type": "string"},
                },
                "Preference-Applied": {
                    "description": "respond-async",
                    "schema": {"type": "string"},
                },
            },
        },
        **GENERATES["responses"],
    },
)
async def create_generation(
    body: GenerationCreate,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    prefer: Annotated[
        str | None,
        Header(
            description="`respond-async`: answer 202 at once and run the generation on the job "
            'queue (RFC 7240; the same as `"async": true` in the body)'
        ),
    ] = None,
) -> Envelope[GenerationOut]:
    """Generate an image: 201 with the finished generation, or 202 with the `pending` one when
    asked to respond asynchronously."""
    data, flow_id = inputs.from_body(body)
    if body.async_ or wants_async(prefer):
        generation = await jobs.submit(runtime, session, project, data, flow_id=flow_id)
        response.status_code = 202
        response.headers["Location"] = f"{router.prefix}/{generation.id}"
        if wants_async(prefer):
            response.headers["Preference-Applied"] = "respond-async"
        return ok(await present_one(session, runtime.settings, project, generation))
    result = await service.create(runtime, session, project, data, flow_id=flow_id)
    return ok(await present_result(session, runtime.settings, project, result))


def wants_async(prefer: str | None) -> bool:
    """RFC 7240: `Prefer: respond-async` (among other preferences, any case)."""
    return prefer is not None and any(
        part.split(";")[0].strip().lower() == "respond-async" for part in prefer.split(",")
    )


@router.get("")
async def list_generations(
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    paging: PageQuery,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
    status: Literal["pending", "processing", "success", "failed"] | None = None,
    namespace: NamespaceQuery = None,
) -> ListEnvelope[GenerationOut]:
    rows, total = await service.list_generations(
        session, project, paging, flow_id=flow_id, status=status, namespace=namespace
    )
    items = await present_generations(session, runtime.settings, project, rows)
    return page(items, total=total, at=paging)


@router.put(
    "/{generation_id}",
    responses=errors(409, 422, 429, 502, 504),
)
async def update_generation(
    generation_id: str,
    body: GenerationUpdate,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
) -> Envelope[GenerationOut]:
    """Edit a generation. A new `prompt`, `aspectRatio`, `imageSize`, `template`, `namespace` or
    `autoEnhance` regenerates it in place: the output image keeps its id, alias and URLs and
    gets new bytes, its variants are dropped and its CDN URLs purged (charged, rate limited
    like a generation). `meta` alone changes only the generation."""
    generation = await service.get(session, project, generation_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("prompt", "aspect_ratio", "image_size", "auto_enhance"):
        if name in changes and changes[name] is None:
            raise ValidationError(f"{to_camel(name)} must not be null; leave it out to keep it")
    if edit.changes_image(generation, changes):
        state = await quota.count_generation_request(
            session, project, runtime.settings, runtime.rate_limiter
        )
        if state is not None:
            response.headers.update(state.headers())
    result = await edit.update(runtime, session, project, generation, changes)
    return ok(await present_result(session, runtime.settings, project, result))


@router.get("/{generation_id}")
async def get_generation(
    generation: GenerationDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    return ok(await present_one(session, runtime.settings, project, generation))


@router.post(
    "/{generation_id}/regenerate",
    **GENERATES,
)
async def regenerate_generation(
    generation: GenerationDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[GenerationOut]:
    result = await service.regenerate(runtime, session, project, generation)
    return ok(await present_result(session, runtime.settings, project, result))


@router.delete("/{generation_id}")
async def delete_generation(
    generation: GenerationDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedGeneration]:
    generation_id = generation.id
    image_deleted = await service.delete(runtime.image_cleanup, session, project, generation)
    return ok(DeletedGeneration(id=generation_id, output_image_deleted=image_deleted))


@router.get("/{generation_id}/snippets")
async def generation_snippets(
    generation: GenerationDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[list[snippets.Snippet]]:
    """Working code that makes this generation again (cURL, Python and JS SDKs, OpenAI SDK, an
    MCP tool call, a live URL) and HTML that places its image."""
    out = await present_one(session, runtime.settings, project, generation)
    return ok(snippets.for_generation(snippets.where(runtime.settings, project), out))
