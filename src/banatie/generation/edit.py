"""`PUT /api/v1/generations/{id}`: edit a generation. A new prompt, aspectRatio, imageSize,
template, namespace or autoEnhance regenerates it in place: the output image keeps its id,
alias and URLs and gets new bytes; its variants are dropped and its CDN URLs purged."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db.base import utcnow
from banatie.generation import pipeline, service
from banatie.generation.errors import GenerationInProgress
from banatie.generation.models import Generation
from banatie.images import repository as image_repository
from banatie.namespaces import service as namespaces
from banatie.runtime import Runtime
from banatie.validation import check_meta

# Request field -> the generation's column.
IMAGE_FIELDS: Final = {
    "prompt": "original_prompt",
    "aspect_ratio": "aspect_ratio",
    "image_size": "image_size",
    "template": "template",
    "namespace": "namespace",
    "auto_enhance": "auto_enhance",
}


def changes_image(generation: Generation, changes: dict[str, Any]) -> bool:
    """Whether the edit asks for a different image (a field given with a new value)."""
    return any(
        name in changes and changes[name] != getattr(generation, column)
        for name, column in IMAGE_FIELDS.items()
    )


async def update(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    generation: Generation,
    changes: dict[str, Any],
) -> pipeline.GenerationResult:
    """Apply the given fields (those not given keep their values). `meta` alone changes no
    image; a new image field regenerates in place (charged like a regeneration)."""
    if generation.status == "processing":
        raise GenerationInProgress()
    if "meta" in changes:
        generation.meta = check_meta(changes["meta"] or {}, rt.settings.max_meta_bytes)
    if not changes_image(generation, changes):
        generation.updated_at = utcnow()
        await session.flush()
        output = (
            await image_repository.get(session, project.id, generation.output_image_id)
            if generation.output_image_id
            else None
        )
        return pipeline.GenerationResult(generation, output)
    data = service.GenerationInput(
        prompt=changes.get("prompt", generation.original_prompt),
        aspect_ratio=changes.get("aspect_ratio", generation.aspect_ratio),
        image_size=changes.get("image_size", generation.image_size),
        template=changes.get("template", generation.template),
        auto_enhance=changes.get("auto_enhance", generation.auto_enhance),
        namespace=changes.get("namespace", generation.namespace),
    )
    namespace = await namespaces.find(session, project, data.namespace)
    if namespace is not None:
        data.namespace = namespace.slug
        data.template = data.template or namespace.template
    data = service.validate_input(rt.settings, data, await rt.synthesizer.capabilities())
    generation.original_prompt = generation.prompt = data.prompt
    generation.aspect_ratio = data.aspect_ratio or generation.aspect_ratio
    generation.image_size = data.image_size
    generation.template = data.template
    generation.auto_enhance = data.auto_enhance
    generation.namespace = data.namespace
    await session.flush()  # in the claim's transaction: its re-read sees the new fields
    return await service.regenerate(rt, session, project, generation, in_place=True)
