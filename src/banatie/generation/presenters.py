"""A generation as the API shows it (shared by the generations and flows routes and MCP): the
one place that turns a `Generation` row into a `GenerationOut`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.delivery.urls import image_url
from banatie.flows.schemas import FlowContextOut
from banatie.generation.models import Generation
from banatie.generation.schemas import GenerationOut, ReferencedImage
from banatie.images import repository as image_repository
from banatie.images.models import Image
from banatie.images.presenters import present_image
from banatie.schemas import from_row
from banatie.settings import Settings

if TYPE_CHECKING:  # the pipeline tells webhooks through these presenters (generation.events)
    from banatie.generation.pipeline import GenerationResult


async def present_generations(
    session: AsyncSession, settings: Settings, project: Project, rows: Sequence[Generation]
) -> list[GenerationOut]:
    """A page of generations, their output images read in one query (not one per row)."""
    ids = [row.output_image_id for row in rows if row.output_image_id]
    outputs = {
        image.id: image for image in await image_repository.get_many(session, project.id, ids)
    }
    return [
        present_generation(settings, project, row, outputs.get(row.output_image_id or ""))
        for row in rows
    ]


async def present_result(
    session: AsyncSession, settings: Settings, project: Project, result: GenerationResult
) -> GenerationOut:
    """What creating, regenerating or editing a generation answers."""
    return await present_one(
        session, settings, project, result.generation, result.image, result.alias_moved_from
    )


async def present_one(
    session: AsyncSession,
    settings: Settings,
    project: Project,
    generation: Generation,
    output: Image | None = None,
    alias_moved_from: str | None = None,
) -> GenerationOut:
    """One generation; its output image is read unless given."""
    if output is None and generation.output_image_id:
        output = await image_repository.get(session, project.id, generation.output_image_id)
    return present_generation(settings, project, generation, output, alias_moved_from)


def present_generation(
    settings: Settings,
    project: Project,
    generation: Generation,
    output: Image | None,
    alias_moved_from: str | None = None,
) -> GenerationOut:
    """`output`: the generation's output image as read (None: it has none, or it is gone)."""
    output_out = present_image(output, project, settings) if output else None
    base = settings.delivery_base_url
    refs = [
        ReferencedImage(
            id=ref["id"],
            alias=ref.get("alias"),
            role=ref.get("role") or "reference",
            storage_url=image_url(base, project.organization.slug, project.slug, ref["id"]),
        )
        for ref in generation.referenced_images or []
    ]
    return from_row(
        GenerationOut,
        generation,
        output_image=output_out,
        variants=output_out.variants if output_out else {},
        referenced_images=refs,
        flow_context=(
            FlowContextOut.model_validate(generation.flow_context)
            if generation.flow_context
            else None
        ),
        token_usage=dict(generation.token_usage or {}),
        meta=dict(generation.meta or {}),
        webhook_url=generation.webhook_url,
        alias_moved_from=alias_moved_from,
    )
