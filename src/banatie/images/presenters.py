"""An image row as the API shows it: the one place that turns an `Image` into an `ImageOut`."""

from __future__ import annotations

from banatie.accounts.models import Project
from banatie.delivery import presets
from banatie.delivery.urls import image_url
from banatie.images.models import Image
from banatie.images.schemas import FocalPoint, ImageOut
from banatie.schemas import from_row
from banatie.settings import Settings


def present_image(image: Image, project: Project, settings: Settings) -> ImageOut:
    base = settings.delivery_base_url
    org = project.organization.slug
    host = presets.ImageHost.of(settings, org, project.slug)
    return from_row(
        ImageOut,
        image,
        storage_url=image_url(base, org, project.slug, image.id),
        alias_url=image_url(base, org, project.slug, image.alias) if image.alias else None,
        file_size=image.size_bytes,
        focal_point=FocalPoint(x=image.focal_x, y=image.focal_y),
        tags=list(image.tags or []),
        dominant_colors=list(image.dominant_colors or []),
        meta=dict(image.meta or {}),
        variants=presets.variant_urls(host, image.id, settings.presets),
        srcset=presets.srcset(host, image.id, image.width),
    )
