"""API shapes of generations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from banatie.flows.schemas import FlowContextOut
from banatie.images.schemas import ImageOut
from banatie.schemas import CamelModel, RequestModel


class GenerationFields(RequestModel):
    """What a generation is asked with: `POST /generations`' body, an item of a batch."""

    prompt: str = Field(description="What to draw, in any language; `@alias` references images")
    aspect_ratio: str | None = Field(
        default=None,
        description="one of the active model's aspect ratios (GET /api/info): 1:1, 16:9, 9:16, …; "
        "default: the namespace's, else 1:1",
    )
    image_size: str | None = Field(
        default=None,
        description="output size where the model offers one (512, 1K, 2K, 4K; GET /api/info); "
        "default: the model's",
    )
    reference_images: list[str] = Field(default_factory=list, description="image ids or aliases")
    # Omitted: a new flow is started. null: no flow. An id: join (or start) that flow.
    flow_id: str | None = None
    alias: str | None = None
    flow_alias: str | None = None
    auto_enhance: bool = True
    template: str | None = Field(default=None, description="default: the namespace's, else general")
    namespace: str | None = Field(
        default=None,
        description="a namespace slug: its style, system prompt, style images and defaults apply",
    )
    meta: dict[str, Any] = Field(default_factory=dict)
    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="told when the generation succeeds or fails, signed with the project's "
        "signing secret (docs/webhooks.md); public http(s) addresses only",
    )


class GenerationCreate(GenerationFields):
    async_: bool = Field(
        default=False,
        alias="async",
        description="true: answer 202 with the `pending` generation and run it on the job queue "
        "(like `Prefer: respond-async`)",
    )


class GenerationUpdate(RequestModel):
    """Fields not given keep their values. A new prompt, aspectRatio, imageSize, template,
    namespace or autoEnhance regenerates the image in place (same id, alias and URLs)."""

    prompt: str | None = None
    aspect_ratio: str | None = None
    image_size: str | None = None
    template: str | None = Field(default=None, description="null: the namespace's, else general")
    namespace: str | None = Field(default=None, description="null: none")
    auto_enhance: bool | None = None
    meta: dict[str, Any] | None = None


class ReferencedImage(CamelModel):
    id: str
    alias: str | None
    role: str = Field(
        default="reference", description="reference (named by the request) or style (namespace)"
    )
    storage_url: str


class GenerationOut(CamelModel):
    id: str
    project_id: str
    flow_id: str | None
    status: str
    source: str
    prompt: str
    original_prompt: str
    auto_enhance: bool
    aspect_ratio: str
    image_size: str | None
    template: str | None
    namespace: str | None
    alias: str | None
    flow_alias: str | None
    output_image: ImageOut | None
    variants: dict[str, str]
    referenced_images: list[ReferencedImage]
    flow_context: FlowContextOut | None
    detected_language: str | None
    enhancer: str | None
    synthesizer: str | None
    model: str | None
    token_usage: dict[str, Any]
    error_code: str | None
    error_message: str | None
    processing_time_ms: int | None
    meta: dict[str, Any]
    webhook_url: str | None = None
    alias_moved_from: str | None = None
    created_at: datetime
    updated_at: datetime


class DeletedGeneration(CamelModel):
    id: str
    deleted: bool = True
    output_image_deleted: bool
