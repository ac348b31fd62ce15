"""An image row as the API shows it: the one place that turns an `Image` into an `ImageOut`."""

from __future__ import annotations

from banatie.accounts.models import Project
from banatie.delivery import presets
from banatie.delivery.urls import image_url
from banatie.images.models import Image
from banatie.images.schemas import FocalPoint, ImageOut
from banatie.settings import Settings


def present_image(image: Image, project: Project, settings: Settings) -> ImageOut:
    base = settings.delivery_base_url
    org = project.organization.slug
    return ImageOut(
        id=image.id,
        project_id=image.project_id,
        flow_id=image.flow_id,
        generation_id=image.generation_id,
        source=image.source,
        alias=image.alias,
        namespace=image.namespace,
        storage_url=image_url(base, org, project.slug, image.id),
        alias_url=image_url(base, org, project.slug, image.alias) if image.alias else None,
        mime_type=image.mime_type,
        file_size=image.size_bytes,
        width=image.width,
        height=image.height,
        has_alpha=image.has_alpha,
        focal_point=FocalPoint(x=image.focal_x, y=image.focal_y),
        analyzer=image.analyzer,
        alt_text=image.alt_text,
        description=image.description,
        tags=list(image.tags or []),
        dominant_colors=list(image.dominant_colors or []),
        placeholder_hash=image.placeholder_hash,
        original_filename=image.original_filename,
        file_hash=image.file_hash,
        meta=dict(image.meta or {}),
        variants=presets.variant_urls(
            base, org, project.slug, image.id, settings.presets, settings.delivery_signing_key
        ),
        srcset=presets.srcset(
            base, org, project.slug, image.id, image.width, settings.delivery_signing_key
        ),
        created_at=image.created_at,
        updated_at=image.updated_at,
    )
