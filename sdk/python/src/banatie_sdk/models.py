"""What the API answers, as pydantic models with snake_case attributes.

Unknown fields are kept (``model_extra``), so a newer server never breaks an older SDK.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "Deleted",
    "Enhancement",
    "FlowData",
    "FocalPoint",
    "Generation",
    "Image",
    "LiveImage",
    "LiveRegeneration",
    "LiveScope",
    "LiveSettings",
    "LiveUrl",
    "Namespace",
    "ReferencedImage",
    "Usage",
]


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=False
    )


class FocalPoint(Model):
    x: float
    y: float


class Image(Model):
    id: str
    project_id: str
    flow_id: str | None = None
    generation_id: str | None = None
    source: str
    alias: str | None = None
    storage_url: str
    alias_url: str | None = None
    mime_type: str
    file_size: int
    width: int
    height: int
    has_alpha: bool = False
    focal_point: FocalPoint
    analyzer: str | None = None
    alt_text: str | None = None
    description: str | None = None
    tags: list[str] = []
    dominant_colors: list[str] = []
    placeholder_hash: str | None = None
    original_filename: str | None = None
    file_hash: str | None = None
    meta: dict[str, Any] = {}
    variants: dict[str, str] = {}
    srcset: str | None = None
    created_at: datetime
    updated_at: datetime
    #: After an upload or an alias change: the image the alias was taken from, if any.
    alias_moved_from: str | None = None


class ReferencedImage(Model):
    id: str
    alias: str | None = None
    storage_url: str


class Generation(Model):
    id: str
    project_id: str
    flow_id: str | None = None
    status: str
    source: str
    prompt: str
    original_prompt: str
    auto_enhance: bool
    aspect_ratio: str
    image_size: str | None = None
    template: str | None = None
    namespace: str | None = None
    alias: str | None = None
    flow_alias: str | None = None
    output_image: Image | None = None
    variants: dict[str, str] = {}
    referenced_images: list[ReferencedImage] = []
    detected_language: str | None = None
    enhancer: str | None = None
    synthesizer: str | None = None
    model: str | None = None
    token_usage: dict[str, Any] = {}
    error_code: str | None = None
    error_message: str | None = None
    processing_time_ms: int | None = None
    meta: dict[str, Any] = {}
    alias_moved_from: str | None = None
    created_at: datetime
    updated_at: datetime


class Deleted(Model):
    """The answer of a delete: ``id`` (or ``slug``) and what went with it."""

    id: str | None = None
    slug: str | None = None
    deleted: bool = True
    output_image_deleted: bool | None = None
    image_id: str | None = None
    images_deleted: int | None = None
    generations_deleted: int | None = None
    #: A flow's: ids of the images kept (they hold a project alias); a namespace's: how many.
    images_kept: list[str] | int | None = None


class FlowData(Model):
    """A flow as the API answers it (``client.flows`` hands out a ``Flow`` with helpers)."""

    id: str
    project_id: str
    #: Flow aliases (``@hero``) -> image ids; seen only by the flow's own generations.
    aliases: dict[str, str] = {}
    generation_count: int = 0
    image_count: int = 0
    last_generated_at: datetime | None = None
    meta: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime


class Namespace(Model):
    """A house style: generations, live URLs and uploads that name it inherit it."""

    id: str
    slug: str
    name: str
    style_prompt: str | None = None
    system_prompt: str | None = None
    style_images: list[str] = []
    negative_prompt: str | None = None
    template: str | None = None
    aspect_ratio: str | None = None
    meta: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime


class LiveScope(Model):
    slug: str
    allow_new_generations: bool
    new_generations_limit: int
    current_generations: int
    remaining_generations: int
    last_generated_at: datetime | None = None
    live_url: str
    meta: dict[str, Any] = {}
    created_at: datetime
    updated_at: datetime


class LiveImage(Model):
    id: str
    scope: str
    status: str
    prompt: str
    aspect_ratio: str
    template: str
    auto_enhance: bool
    namespace: str | None = None
    live_url: str
    generation_id: str | None = None
    image_id: str | None = None
    image: Image | None = None
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime
    updated_at: datetime


class LiveRegenerationFailure(Model):
    image_id: str | None = None
    code: str
    message: str


class LiveRegeneration(Model):
    regenerated: list[LiveImage]
    failed: list[LiveRegenerationFailure]


class LiveSettings(Model):
    allowed_referrers: list[str]
    require_signature: bool
    has_signing_secret: bool
    #: Only in the answer that created the secret: keep it (``Banatie(live_signing_secret=…)``).
    signing_secret: str | None = None
    ip_rate_limit: str
    auto_create_scopes: bool
    default_allow_new_generations: bool
    default_new_generations_limit: int


class LiveUrl(Model):
    url: str
    signed: bool
    expires_at: int | None = None
    img_tag: str


class Usage(Model):
    plan: str
    plan_name: str
    period: str
    used: int
    limit: int | None = None
    remaining: int | None = None
    resets_at: datetime
    rate_limit: str | None = None
    storage_used_bytes: int
    storage_limit_bytes: int | None = None


class Enhancement(Model):
    enhanced_prompt: str
    original_prompt: str
    detected_language: str
    rationale: str
    enhancer: str
    template: str
    aspect_ratio: str
