"""Generations (DESIGN.md §1): start one, regenerate it, list, read and delete them.

Every channel (REST, live URLs, regeneration) goes through `create` or `regenerate`. A
generation row is committed as `processing` before the provider is called, then
`pipeline.run` produces and stores the image, so a failure is recorded as `failed` with its
error; nothing is charged and no blob or image row is left behind. This is the one service that
commits its caller's unit of work early (`transactions.step`): call it with nothing pending that
should roll back with a refusal.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.db.paging import PageRequest
from banatie.errors import ApiError, ValidationError
from banatie.flows import memory
from banatie.flows import service as flows
from banatie.flows.models import Flow
from banatie.generation import pipeline, references, repository, request
from banatie.generation.errors import GenerationInProgress, GenerationNotFound
from banatie.generation.models import Generation
from banatie.generation.repository import Filters
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.images.aliases import is_uuid, normalize_alias
from banatie.images.cleanup import ImageCleanup
from banatie.namespaces import service as namespaces
from banatie.namespaces.models import Namespace
from banatie.providers.capabilities import ImageCapabilities
from banatie.quota import service as quota
from banatie.runtime import Runtime
from banatie.settings import Settings
from banatie.validation import check_meta
from banatie.webhooks import service as webhooks

log = logging.getLogger(__name__)

NEW_FLOW = object()  # `flowId` omitted: start a new flow
# The pipeline's first durable step (banatie.db.transactions.step; the second is
# `pipeline.STORED`); the request's unit of work goes on after it.
RESERVED = "the processing row and its reservation stand before the provider is called"


@dataclass
class GenerationInput:
    prompt: str
    # None: the namespace's default, else 1:1.
    aspect_ratio: str | None = None
    # 512, 1K, 2K, 4K where the model offers them; None: the model's default.
    image_size: str | None = None
    template: str | None = None
    auto_enhance: bool = True
    namespace: str | None = None
    reference_images: list[str] = field(default_factory=list)
    alias: str | None = None
    flow_alias: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = "api"
    # Told when the generation succeeds or fails (banatie.webhooks), besides the project's
    # webhook endpoints.
    webhook_url: str | None = None


def validate_input(
    settings: Settings, data: GenerationInput, capabilities: ImageCapabilities
) -> GenerationInput:
    """`capabilities`: the active synthesizer's row (`await rt.synthesizer.capabilities()`)."""
    params = request.validate(
        data,
        capabilities=capabilities,
        max_prompt_chars=settings.max_prompt_chars,
    )
    data.prompt, data.aspect_ratio = params.prompt, params.aspect_ratio
    data.image_size = params.image_size or capabilities.default_size
    data.template, data.namespace = params.template, params.namespace
    if len(data.reference_images) > settings.max_reference_images:
        raise ValidationError(
            f"{len(data.reference_images)} referenceImages given; at most "
            f"{settings.max_reference_images} are allowed"
        )
    data.meta = check_meta(data.meta, settings.max_meta_bytes)
    data.alias = normalize_alias(data.alias) if data.alias else None
    data.flow_alias = normalize_alias(data.flow_alias, "flowAlias") if data.flow_alias else None
    return data


async def _flow(
    session: AsyncSession, project: Project, flow_id: str | object | None
) -> Flow | None:
    if flow_id is None:
        return None
    if flow_id is NEW_FLOW:
        return await flows.start(session, project)
    assert isinstance(flow_id, str)
    return await flows.join(session, project, flow_id)


@dataclass(frozen=True)
class Prepared:
    """A generation row made from a request (not yet added to the session), with what its run
    needs."""

    generation: Generation
    flow: Flow | None
    refs: list[references.Ref]
    namespace: Namespace | None


async def prepare(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    data: GenerationInput,
    *,
    flow_id: str | object | None = NEW_FLOW,
    status: str = "processing",
) -> Prepared:
    """Validate the request, resolve its flow, namespace and references, and make its row
    (`processing` and owned by this process, or `pending` for the job queue)."""
    namespace = await namespaces.find(session, project, data.namespace)
    if namespace is not None:  # explicit request fields win over the namespace's defaults
        data.namespace = namespace.slug
        data.template = data.template or namespace.template
        if data.aspect_ratio is None:
            data.aspect_ratio = namespace.aspect_ratio
    data = validate_input(rt.settings, data, await rt.synthesizer.capabilities())
    if data.webhook_url is not None:
        await webhooks.check_target(rt.settings, data.webhook_url, field="webhookUrl")
    flows.need_flow(data.flow_alias, flow_id)
    flow = await _flow(session, project, flow_id)
    refs = await references.resolve_references(
        session,
        project.id,
        flow,
        explicit=data.reference_images,
        prompt=data.prompt,
        limit=rt.settings.max_reference_images,
        namespace=namespace,
    )
    now = utcnow()
    # The request is stored as it is, each field in the column of its name.
    request = dataclasses.asdict(data)
    requested_references = request.pop("reference_images")
    generation = Generation(
        id=new_id(),
        created_at=now,
        updated_at=now,
        project_id=project.id,
        flow_id=flow.id if flow else None,
        status=status,
        original_prompt=data.prompt,
        **request,
        requested_references=requested_references,
        referenced_images=[ref.record() for ref in refs],
        flow_context=await memory.recall(
            session,
            project.id,
            flow,
            before=now,
            reference_ids=[ref.image.id for ref in refs],
            enhanced=data.auto_enhance,
        ),
        token_usage={},
        attempts=0,
        owner=rt.instance if status == "processing" else None,
    )
    return Prepared(generation, flow, refs, namespace)


async def create(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    data: GenerationInput,
    *,
    flow_id: str | object | None = NEW_FLOW,
) -> pipeline.GenerationResult:
    prepared = await prepare(rt, session, project, data, flow_id=flow_id)
    generation = prepared.generation
    session.add(generation)
    async with transactions.step(session, why=RESERVED):
        await quota.reserve(
            session,
            project,
            rt.settings,
            generation_id=generation.id,
            attempt=1,
            source=data.source,
        )
    return await pipeline.run(
        rt, session, project, generation, prepared.flow, prepared.refs, prepared.namespace
    )


async def run_claimed(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    generation: Generation,
    *,
    retry: pipeline.RetryHook | None = None,
) -> pipeline.GenerationResult:
    """Run a queued generation that this process has just claimed (status `processing`, its
    reservation made when it was queued). Its references are resolved now; one that went away
    meanwhile fails it with that error."""
    started = time.perf_counter()
    generation_id = generation.id
    try:
        flow, namespace, refs = await _context(rt, session, project, generation)
    except ApiError as exc:
        await pipeline.mark_failed(rt, session, generation_id, exc.code, exc.message, started)
        raise
    return await pipeline.run(rt, session, project, generation, flow, refs, namespace, retry=retry)


async def _context(
    rt: Runtime, session: AsyncSession, project: Project, generation: Generation
) -> tuple[Flow | None, Namespace | None, list[references.Ref]]:
    """A stored generation's flow, namespace and references, resolved again."""
    flow = await session.get(Flow, generation.flow_id) if generation.flow_id else None
    namespace = await namespaces.find(session, project, generation.namespace)
    refs = await references.resolve_references(
        session,
        project.id,
        flow,
        explicit=list(generation.requested_references or []),
        prompt=generation.original_prompt,
        limit=rt.settings.max_reference_images,
        namespace=namespace,
    )
    return flow, namespace, refs


async def regenerate(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    generation: Generation,
    *,
    in_place: bool = False,
) -> pipeline.GenerationResult:
    """Run the same request again into a new image; the old image's alias moves to it. With
    `in_place`, the output image gets the new content instead (same id, alias and URLs).
    Concurrent regenerations of one generation: the database lets one through, the others
    get 409 GENERATION_IN_PROGRESS."""
    if generation.status in ("processing", "pending"):
        raise GenerationInProgress()
    async with transactions.step(session, why=RESERVED):  # a failure gives the claim back
        if not await repository.claim(session, generation.id):
            raise GenerationInProgress()
        # Read under the claim: another regeneration may have finished since this row was loaded.
        await session.refresh(generation)
        flow, namespace, refs = await _context(rt, session, project, generation)
        previous = (
            await image_repository.get(session, project.id, generation.output_image_id)
            if generation.output_image_id
            else None
        )
        await quota.reserve(
            session,
            project,
            rt.settings,
            generation_id=generation.id,
            attempt=(generation.attempts or 0) + 1,
            source="regenerate",
        )
        generation.owner = rt.instance
        generation.source = "regenerate"
        generation.error_code = generation.error_message = None
        generation.referenced_images = [ref.record() for ref in refs]
        generation.flow_context = await memory.recall(
            session,
            project.id,
            flow,
            before=generation.created_at,
            reference_ids=[ref.image.id for ref in refs],
            enhanced=generation.auto_enhance,
        )
        generation.updated_at = utcnow()
    return await pipeline.run(
        rt, session, project, generation, flow, refs, namespace, previous, in_place=in_place
    )


async def list_generations(
    session: AsyncSession, project: Project, paging: PageRequest, **filters: Unpack[Filters]
) -> tuple[list[Generation], int]:
    """A page of the project's generations, the latest first, and how many match in all."""
    return await repository.list_generations(session, project.id, paging, **filters)


async def get(session: AsyncSession, project: Project, generation_id: str) -> Generation:
    generation = (
        await repository.get(session, project.id, generation_id) if is_uuid(generation_id) else None
    )
    if generation is None:
        raise GenerationNotFound(f"generation {generation_id!r} not found")
    return generation


async def delete(
    cleanup: ImageCleanup, session: AsyncSession, project: Project, generation: Generation
) -> bool:
    """Delete the generation and its output image, unless that image holds an alias (an alias is
    something the user chose to keep). Returns whether the image was deleted."""
    image = (
        await image_repository.get(session, project.id, generation.output_image_id)
        if generation.output_image_id
        else None
    )
    await quota.release_all(session, generation_id=generation.id)
    await session.delete(generation)
    await session.flush()
    if image is not None and image.alias is None:
        await images.delete(cleanup, session, image)
        return True
    return False
