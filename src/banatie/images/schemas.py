"""API shapes of images."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from banatie.schemas import CamelModel, RequestModel


class FocalPoint(CamelModel):
    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)


class ImageOut(CamelModel):
    id: str
    project_id: str
    flow_id: str | None
    generation_id: str | None
    source: str
    alias: str | None
    namespace: str | None
    storage_url: str
    alias_url: str | None
    mime_type: str
    file_size: int
    width: int
    height: int
    has_alpha: bool
    focal_point: FocalPoint
    analyzer: str
    alt_text: str | None
    description: str | None
    tags: list[str]
    dominant_colors: list[str]
    placeholder_hash: str | None
    original_filename: str | None
    file_hash: str
    meta: dict[str, Any]
    variants: dict[str, str]
    srcset: str | None
    created_at: datetime
    updated_at: datetime


class ImageAliasResult(CamelModel):
    image: ImageOut
    # When the alias was held by another image, it moved: this is the image that lost it.
    alias_moved_from: str | None = None


class ImageUpdate(RequestModel):
    focal_point: FocalPoint | None = None
    alt_text: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=2000)
    tags: list[str] | None = Field(default=None, max_length=50)
    meta: dict[str, Any] | None = None


class AliasAssignment(RequestModel):
    alias: str | None = Field(description="`@name` (or `name`); null removes the alias")


class DeletedImage(CamelModel):
    id: str
    deleted: bool = True
