"""The generation pipeline (DESIGN.md §1): input -> enhance -> synthesize -> analyze -> persist.

Every channel (REST, live URLs, regeneration) goes through `create` or `regenerate`. A
generation row is committed as `processing` before the provider is called, so a failure is
recorded as `failed` with its error; nothing is charged and no blob or image row is left behind.
This is the one service that commits its caller's unit of work early (`transactions.step`):
call it with nothing pending that should roll back with a refusal.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.errors import ApiError, ValidationError
from banatie.flows import memory
from banatie.flows import service as flows
from banatie.flows.models import Flow
from banatie.generation import references, repository, request
from banatie.generation.errors import GenerationInProgress, GenerationNotFound
from banatie.generation.models import Generation
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.images.aliases import is_uuid, normalize_alias
from banatie.images.models import Image
from banatie.imaging.probe import InvalidImage, probe
from banatie.namespaces import service as namespaces
from banatie.namespaces.models import Namespace
from banatie.observability import metrics
from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.errors import ProviderError
from banatie.providers.ports import (
    EnhancementRequest,
    ReferenceImage,
    SynthesisRequest,
)
from banatie.quota import service as quota
from banatie.runtime import Runtime
from banatie.settings import Settings
from banatie.validation import check_meta

log = logging.getLogger(__name__)

NEW_FLOW = object()  # `flowId` omitted: start a new flow
# The pipeline's two durable steps (banatie.db.transactions.step); the request's unit of work
# goes on after each.
RESERVED = "the processing row and its reservation stand before the provider is called"
STORED = "the image and its rows stand before the old content is dropped"
# An image's `source` by its generation's channel: the OpenAI-compatible endpoint's are "openai".
IMAGE_SOURCES = {"openai": "openai"}


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


@dataclass(frozen=True)
class GenerationResult:
    generation: Generation
    image: Image | None
    alias_moved_from: str | None = None


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


async def create(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    data: GenerationInput,
    *,
    flow_id: str | object | None = NEW_FLOW,
) -> GenerationResult:
    namespace = await namespaces.find(session, project, data.namespace)
    if namespace is not None:  # explicit request fields win over the namespace's defaults
        data.namespace = namespace.slug
        data.template = data.template or namespace.template
        if data.aspect_ratio is None:
            data.aspect_ratio = namespace.aspect_ratio
    data = validate_input(rt.settings, data, await rt.synthesizer.capabilities())
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
    generation = Generation(
        id=new_id(),
        created_at=now,
        updated_at=now,
        project_id=project.id,
        flow_id=flow.id if flow else None,
        status="processing",
        source=data.source,
        original_prompt=data.prompt,
        prompt=data.prompt,
        aspect_ratio=data.aspect_ratio,
        image_size=data.image_size,
        template=data.template,
        auto_enhance=data.auto_enhance,
        namespace=data.namespace,
        alias=data.alias,
        flow_alias=data.flow_alias,
        requested_references=list(data.reference_images),
        referenced_images=[ref.record() for ref in refs],
        flow_context=await memory.recall(
            session,
            project.id,
            flow,
            before=now,
            reference_ids=[ref.image.id for ref in refs],
            enhanced=data.auto_enhance,
        ),
        meta=data.meta,
        token_usage={},
        attempts=0,
        owner=rt.instance,
    )
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
    return await _run(rt, session, project, generation, flow, refs, namespace)


async def regenerate(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    generation: Generation,
    *,
    in_place: bool = False,
) -> GenerationResult:
    """Run the same request again into a new image; the old image's alias moves to it. With
    `in_place`, the output image gets the new content instead (same id, alias and URLs).
    Concurrent regenerations of one generation: the database lets one through, the others
    get 409 GENERATION_IN_PROGRESS."""
    if generation.status == "processing":
        raise GenerationInProgress()
    async with transactions.step(session, why=RESERVED):  # a failure gives the claim back
        if not await repository.claim(session, generation.id):
            raise GenerationInProgress()
        # Read under the claim: another regeneration may have finished since this row was loaded.
        await session.refresh(generation)
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
    return await _run(
        rt, session, project, generation, flow, refs, namespace, previous, in_place=in_place
    )


async def _run(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    generation: Generation,
    flow: Flow | None,
    refs: list[references.Ref],
    namespace: Namespace | None,
    previous: Image | None = None,
    *,
    in_place: bool = False,
) -> GenerationResult:
    started = time.perf_counter()
    # Read now: a rollback expires the row, and reading it later would need a query (the
    # failure path must not fail).
    generation_id = generation.id
    try:
        reference_payloads = [
            ReferenceImage(
                image_id=ref.image.id,
                data=await rt.blobs.get(ref.image.storage_key),
                mime_type=ref.image.mime_type,
                alias=ref.image.alias,
                role=ref.role,
            )
            for ref in refs
        ]
        prompt = generation.original_prompt
        if generation.auto_enhance:
            enhanced = await rt.enhancer.enhance(
                EnhancementRequest(
                    prompt=prompt,
                    template=generation.template or "general",
                    aspect_ratio=generation.aspect_ratio,
                    reference_aliases=[
                        r.alias for r in reference_payloads if r.alias and r.role == "reference"
                    ],
                    style=namespace.style_prompt if namespace else None,
                    system_prompt=namespace.system_prompt if namespace else None,
                    **_memory(generation),
                )
            )
            prompt = enhanced.prompt
            generation.detected_language = enhanced.language
            generation.enhancer = rt.enhancer.name
        generation.prompt = prompt
        synthesized = await rt.synthesizer.synthesize(
            SynthesisRequest(
                prompt=prompt,
                aspect_ratio=generation.aspect_ratio,
                image_size=generation.image_size,
                reference_images=reference_payloads,
                template=generation.template,
                style=namespace.style_prompt if namespace else None,
                negative_prompt=namespace.negative_prompt if namespace else None,
            )
        )
        generation.synthesizer = rt.synthesizer.name
        generation.model = synthesized.model
        generation.token_usage = dict(synthesized.usage)
        try:
            header = await rt.cpu.run(
                probe, synthesized.data, max_pixels=rt.settings.max_image_pixels
            )
        except InvalidImage as exc:
            raise ProviderError(f"the image model returned an unusable image: {exc}") from exc
        analysis = await images.analyze(
            rt,
            synthesized.data,
            header.mime_type,
            prompt=generation.original_prompt,
            filename=None,
        )
    except ProviderError as exc:
        await _mark_failed(session, generation_id, exc.code, exc.message, started)
        raise
    except Exception as exc:
        log.exception("generation %s failed", generation_id)
        await _mark_failed(session, generation_id, "INTERNAL_ERROR", str(exc) or "failed", started)
        raise

    replacing = previous if in_place else None
    image = images.new_image(
        project,
        image_id=replacing.id if replacing else new_id(),
        data=synthesized.data,
        analysis=analysis,
        source=IMAGE_SOURCES.get(generation.source, "generated"),
        flow_id=flow.id if flow else None,
        generation_id=generation.id,
        meta={},
        namespace=generation.namespace,
    )
    if replacing is not None:
        image.storage_key = images.revision_key(replacing)
    replaced: images.Replaced | None = None

    attempt = (generation.attempts or 0) + 1

    async def rows() -> str | None:
        nonlocal replaced
        await quota.check_storage(session, project, rt.settings, len(synthesized.data))
        moved_from = None
        if replacing is not None:  # same id: its alias and flow aliases stay where they are
            replaced = await images.replace_content(rt.delivery, session, replacing, image)
        else:
            session.add(image)
            await session.flush()
            alias = generation.alias or (previous.alias if previous else None)
            if alias:
                moved_from = await images.assign_alias(rt.delivery, session, image, alias)
        if flow is not None:
            flow_aliases = dict(flow.aliases or {})
            if previous is not None:
                for name, image_id in list(flow_aliases.items()):
                    if image_id == previous.id:
                        flow_aliases[name] = image.id
            if generation.flow_alias:
                flow_aliases[generation.flow_alias] = image.id
            flow.aliases = flow_aliases
            flow.updated_at = utcnow()
        generation.attempts = attempt
        generation.status = "success"
        generation.output_image_id = image.id
        generation.processing_time_ms = int((time.perf_counter() - started) * 1000)
        generation.updated_at = utcnow()
        await quota.charge(session, generation_id=generation.id, attempt=attempt)
        return moved_from

    persisting = time.perf_counter()
    try:
        async with transactions.step(session, why=STORED):
            moved_from = await images.write_blob_then_rows(
                rt,
                session,
                key=image.storage_key,
                data=synthesized.data,
                mime_type=image.mime_type,
                write_rows=rows,
            )
    except ApiError as exc:
        # e.g. the storage quota (429) or an alias taken meanwhile (409): the caller gets that.
        await _mark_failed(session, generation_id, exc.code, exc.message, started)
        raise
    except Exception:
        log.exception("storing generation %s failed", generation_id)
        await _mark_failed(
            session, generation_id, "INTERNAL_ERROR", "storing the image failed", started
        )
        raise
    persisted = time.perf_counter() - persisting
    metrics.stage_finished("persist", rt.blobs.name, "ok", persisted)
    metrics.generation_finished("success", generation.model)
    if replacing is not None and replaced is not None:
        await images.drop_replaced(rt, replaced)
        return GenerationResult(generation, replacing, None)
    return GenerationResult(generation, image, moved_from)


def _memory(generation: Generation) -> dict[str, Any]:
    """The EnhancementRequest fields of the step's flow context."""
    context = generation.flow_context or {}
    last = context.get("last") or {}
    return {
        "flow_prompts": tuple(context.get("earlierPrompts") or ()),
        "last_description": last.get("description"),
    }


async def _mark_failed(
    session: AsyncSession, generation_id: str, code: str, message: str, started: float
) -> None:
    """Store the attempt as `failed` and release its reservation, in one transaction. Never
    raises: the caller re-raises the error that made it fail, which is what the client gets."""
    try:
        await transactions.abandon(session)
        fresh = await session.get(Generation, generation_id, populate_existing=True)
        if fresh is None:
            return
        attempt = (fresh.attempts or 0) + 1
        await quota.release(session, generation_id=generation_id, attempt=attempt)
        fresh.status = "failed"
        fresh.error_code = code
        fresh.error_message = message[:2000]
        fresh.processing_time_ms = int((time.perf_counter() - started) * 1000)
        fresh.updated_at = utcnow()
        model = fresh.model
        await transactions.commit_early(session, why="a failed attempt is recorded as failed")
        metrics.generation_finished("failed", model, code)
    except Exception:
        log.exception("could not record generation %s as failed", generation_id)
        with contextlib.suppress(Exception):
            await transactions.abandon(session)


async def list_generations(
    session: AsyncSession,
    project: Project,
    *,
    flow_id: str | None = None,
    status: str | None = None,
    namespace: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Generation], int]:
    """A page of the project's generations, the latest first, and how many match in all."""
    return await repository.list_generations(
        session,
        project.id,
        flow_id=flow_id,
        status=status,
        limit=limit,
        offset=offset,
        namespace=namespaces.as_filter(namespace),
    )


async def get(session: AsyncSession, project: Project, generation_id: str) -> Generation:
    generation = (
        await repository.get(session, project.id, generation_id) if is_uuid(generation_id) else None
    )
    if generation is None:
        raise GenerationNotFound(f"generation {generation_id!r} not found")
    return generation


async def delete(
    rt: Runtime, session: AsyncSession, project: Project, generation: Generation
) -> bool:
    """Delete the generation and its output image, unless that image holds an alias (an alias is
    something the user chose to keep). Returns whether the image was deleted."""
    image = (
        await image_repository.get(session, project.id, generation.output_image_id)
        if generation.output_image_id
        else None
    )
    await session.delete(generation)
    await session.flush()
    if image is not None and image.alias is None:
        await images.delete(rt, session, image)
        return True
    return False
