"""The generation pipeline's run (DESIGN.md §1): enhance -> synthesize -> analyze -> persist.

`service.create` and `service.regenerate` commit the `processing` row and its reservation, then
call `run`. A generation ends in one of two terminal transitions, each in the transaction that
records it: `mark_succeeded` (in the transaction that stores the image) or `mark_failed` (its
own transaction, after the failed attempt's work is rolled back).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.errors import ApiError
from banatie.flows.models import Flow
from banatie.generation import events, references
from banatie.generation.models import Generation
from banatie.images import content
from banatie.images import service as images
from banatie.images.models import Image
from banatie.imaging.probe import InvalidImage, probe
from banatie.namespaces.models import Namespace
from banatie.observability import metrics
from banatie.providers.errors import ProviderError
from banatie.providers.ports import (
    AssetAnalysis,
    EnhancementRequest,
    ReferenceImage,
    SynthesisRequest,
    SynthesizedImage,
)
from banatie.quota import service as quota
from banatie.runtime import Runtime

log = logging.getLogger(__name__)

# The pipeline's second durable step (banatie.db.transactions.step).
STORED = "the image and its rows stand before the old content is dropped"
# A queued generation's provider failure (banatie.jobs.runner): True when it was put back on the
# queue to be retried (the hook rolled the attempt back and committed that), False to record it
# as failed.
RetryHook = Callable[[AsyncSession, str, ProviderError], Awaitable[bool]]
# An image's `source` by its generation's channel: the OpenAI-compatible endpoint's are "openai".
IMAGE_SOURCES = {"openai": "openai"}


@dataclass(frozen=True)
class GenerationResult:
    generation: Generation
    image: Image | None
    alias_moved_from: str | None = None


async def run(
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
    retry: RetryHook | None = None,
) -> GenerationResult:
    """Produce the image of a committed `processing` generation and store it; on failure the
    generation is marked failed (or, for a queued one, `retry` may put it back on the queue)
    and the error raised."""
    started = time.perf_counter()
    # Read now: a rollback expires the row, and reading it later would need a query (the
    # failure path must not fail).
    generation_id = generation.id
    try:
        synthesized, analysis = await _produce(rt, generation, refs, namespace)
    except ProviderError as exc:
        if retry is None or not await retry(session, generation_id, exc):
            await mark_failed(rt, session, generation_id, exc.code, exc.message, started)
        raise
    except Exception as exc:
        log.exception("generation %s failed", generation_id)
        await mark_failed(
            rt, session, generation_id, "INTERNAL_ERROR", str(exc) or "failed", started
        )
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
        image.storage_key = content.revision_key(replacing)
    replaced: content.Replaced | None = None

    async def rows() -> str | None:
        nonlocal replaced
        await quota.check_storage(session, project, rt.settings, len(synthesized.data))
        moved_from = None
        if replacing is not None:  # same id: its alias and flow aliases stay where they are
            replaced = await content.replace_content(rt.delivery, session, replacing, image)
        else:
            session.add(image)
            await session.flush()
            alias = generation.alias or (previous.alias if previous else None)
            if alias:
                moved_from = await images.assign_alias(rt.delivery, session, image, alias)
        if flow is not None:
            _move_flow_aliases(flow, generation, previous, image)
        await mark_succeeded(rt, session, generation, image, started)
        return moved_from

    persisting = time.perf_counter()
    try:
        async with transactions.step(session, why=STORED):
            moved_from = await images.write_blob_then_rows(
                rt.blobs,
                session,
                key=image.storage_key,
                data=synthesized.data,
                mime_type=image.mime_type,
                write_rows=rows,
            )
    except ApiError as exc:
        # e.g. the storage quota (429) or an alias taken meanwhile (409): the caller gets that.
        await mark_failed(rt, session, generation_id, exc.code, exc.message, started)
        raise
    except Exception:
        log.exception("storing generation %s failed", generation_id)
        await mark_failed(
            rt, session, generation_id, "INTERNAL_ERROR", "storing the image failed", started
        )
        raise
    persisted = time.perf_counter() - persisting
    metrics.stage_finished("persist", rt.blobs.name, "ok", persisted)
    metrics.generation_finished("success", generation.model)
    if replacing is not None and replaced is not None:
        await content.drop_replaced(rt.image_cleanup, replaced)
        return GenerationResult(generation, replacing, None)
    return GenerationResult(generation, image, moved_from)


async def _produce(
    rt: Runtime,
    generation: Generation,
    refs: list[references.Ref],
    namespace: Namespace | None,
) -> tuple[SynthesizedImage, AssetAnalysis]:
    """Call the providers: enhance the prompt (if asked), synthesize, check and analyze the
    image. Records on the generation what each step chose (prompt, language, model, usage)."""
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
        header = await rt.cpu.run(probe, synthesized.data, max_pixels=rt.settings.max_image_pixels)
    except InvalidImage as exc:
        raise ProviderError(f"the image model returned an unusable image: {exc}") from exc
    analysis = await images.analyze(
        rt.analyzer,
        synthesized.data,
        header.mime_type,
        prompt=generation.original_prompt,
        filename=None,
    )
    return synthesized, analysis


def _memory(generation: Generation) -> dict[str, Any]:
    """The EnhancementRequest fields of the step's flow context."""
    context = generation.flow_context or {}
    last = context.get("last") or {}
    return {
        "flow_prompts": tuple(context.get("earlierPrompts") or ()),
        "last_description": last.get("description"),
    }


def _move_flow_aliases(
    flow: Flow, generation: Generation, previous: Image | None, image: Image
) -> None:
    """The flow's aliases that named the previous output, and the request's `flowAlias`, now
    name the new image."""
    flow_aliases = dict(flow.aliases or {})
    if previous is not None:
        for name, image_id in list(flow_aliases.items()):
            if image_id == previous.id:
                flow_aliases[name] = image.id
    if generation.flow_alias:
        flow_aliases[generation.flow_alias] = image.id
    flow.aliases = flow_aliases
    flow.updated_at = utcnow()


async def mark_succeeded(
    rt: Runtime, session: AsyncSession, generation: Generation, image: Image, started: float
) -> None:
    """Terminal transition to `success`: the attempt is counted and charged and its webhook
    event queued, in the transaction that stores its image (it commits with the image's rows
    or not at all)."""
    attempt = (generation.attempts or 0) + 1
    generation.attempts = attempt
    generation.status = "success"
    generation.output_image_id = image.id
    generation.processing_time_ms = int((time.perf_counter() - started) * 1000)
    generation.updated_at = utcnow()
    await quota.charge(session, generation_id=generation.id, attempt=attempt)
    await events.finished(session, rt.settings, generation, image, wake=rt.webhooks.on_commit)


async def mark_failed(
    rt: Runtime,
    session: AsyncSession,
    generation_id: str,
    code: str,
    message: str,
    started: float,
) -> None:
    """Terminal transition to `failed`: store the attempt as failed, release its reservation and
    queue its webhook event, in one transaction. Never raises: the caller re-raises the error
    that made it fail, which is what the client gets."""
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
        await events.finished(session, rt.settings, fresh, wake=rt.webhooks.on_commit)
        await transactions.commit_early(session, why="a failed attempt is recorded as failed")
        metrics.generation_finished("failed", model, code)
    except Exception:
        log.exception("could not record generation %s as failed", generation_id)
        with contextlib.suppress(Exception):
            await transactions.abandon(session)
