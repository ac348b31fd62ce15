"""API shapes of live scopes, live images and a project's live settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from banatie.images.schemas import ImageOut
from banatie.schemas import CamelModel, RequestModel


class ScopeCreate(RequestModel):
    slug: str = Field(description="a-z, 0-9, '-' and '_', at most 64 characters")
    allow_new_generations: bool | None = Field(
        default=None, description="misses may generate (default: the project's default, true)"
    )
    new_generations_limit: int | None = Field(
        default=None, ge=0, le=1_000_000, description="images the scope may hold (default 30)"
    )
    meta: dict[str, Any] = Field(default_factory=dict)


class ScopeUpdate(RequestModel):
    allow_new_generations: bool | None = None
    new_generations_limit: int | None = Field(default=None, ge=0, le=1_000_000)
    meta: dict[str, Any] | None = None


class ScopeOut(CamelModel):
    slug: str
    allow_new_generations: bool
    new_generations_limit: int
    current_generations: int
    remaining_generations: int
    last_generated_at: datetime | None
    live_url: str = Field(description="the scope's live URL; add ?prompt=…")
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class DeletedScope(CamelModel):
    slug: str
    deleted: bool = True
    images_deleted: int


class LiveImageOut(CamelModel):
    id: str = Field(description="the live entry's id")
    scope: str
    status: str = Field(description="ready, pending (being generated) or failed")
    prompt: str
    aspect_ratio: str
    template: str
    auto_enhance: bool
    namespace: str | None
    live_url: str
    generation_id: str | None
    image_id: str | None
    image: ImageOut | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


class DeletedLiveImage(CamelModel):
    id: str
    image_id: str | None
    deleted: bool = True


class RegenerateRequest(RequestModel):
    image_id: str | None = Field(
        default=None, description="regenerate this image only; omitted: every image of the scope"
    )


class RegenerateFailure(CamelModel):
    image_id: str | None
    code: str
    message: str


class RegenerateOut(CamelModel):
    regenerated: list[LiveImageOut]
    failed: list[RegenerateFailure]


class LiveSettingsUpdate(RequestModel):
    allowed_referrers: list[str] | None = Field(
        default=None,
        description="domains whose pages may trigger generations (subdomains included); "
        "[] allows any",
    )
    require_signature: bool | None = None
    ip_rate_limit: str | None = Field(
        default=None, description="misses per client IP, e.g. 10/hour; null: the server default"
    )
    auto_create_scopes: bool | None = None
    default_allow_new_generations: bool | None = None
    default_new_generations_limit: int | None = Field(default=None, ge=0, le=1_000_000)
    rotate_signing_secret: bool = Field(
        default=False, description="make a new live signing secret (shown once)"
    )


class LiveSettingsOut(CamelModel):
    allowed_referrers: list[str]
    require_signature: bool
    has_signing_secret: bool
    signing_secret: str | None = Field(
        default=None, description="only in the answer that created it: keep it"
    )
    ip_rate_limit: str
    auto_create_scopes: bool
    default_allow_new_generations: bool
    default_new_generations_limit: int


class LiveUrlRequest(RequestModel):
    scope: str
    prompt: str
    aspect_ratio: str | None = None
    image_size: str | None = None
    template: str | None = None
    auto_enhance: bool | None = None
    namespace: str | None = None
    transform: str | None = Field(
        default=None, description="transformation query to append, e.g. w=800&format=auto"
    )
    expires_in_seconds: int | None = Field(default=None, ge=1, le=10 * 365 * 86400)
    sign: bool | None = Field(
        default=None, description="sign with the project's secret (default: when it has one)"
    )


class LiveUrlOut(CamelModel):
    url: str
    signed: bool
    expires_at: int | None
    img_tag: str
