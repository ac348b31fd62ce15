"""API shapes of namespaces."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, Field

from banatie.schemas import CamelModel, RequestModel


def as_filter(raw: str | None) -> str | None:
    """A `namespace` filter as typed: its slug, spelled as stored (None: no filter)."""
    return raw.strip().lower().lstrip("@") if raw and raw.strip() else None


#: A list route's `namespace` query: the slug spelled as stored (None, blank: no filter).
NamespaceQuery = Annotated[
    str | None, Query(description="a namespace slug"), AfterValidator(as_filter)
]

_SLUG = "a-z, 0-9, '-' and '_', starting with a letter or digit, at most 63 characters"


class NamespaceFields(RequestModel):
    """The fields a namespace's creator or editor may set; null clears one."""

    name: str | None = Field(default=None, max_length=200, description="default: the slug")
    style_prompt: str | None = Field(
        default=None,
        max_length=2000,
        description='appended to every prompt, e.g. "flat vector, pastel palette, thick outlines"',
    )
    system_prompt: str | None = Field(
        default=None, max_length=5000, description="instructions for the prompt enhancer"
    )
    style_images: list[str] | None = Field(
        default=None,
        description="up to 3 image ids or aliases sent to the model as style references",
    )
    negative_prompt: str | None = Field(
        default=None, max_length=2000, description="what images of this namespace avoid"
    )
    template: str | None = Field(default=None, description="default template")
    aspect_ratio: str | None = Field(default=None, description="default aspect ratio")
    meta: dict[str, Any] | None = None


class NamespaceCreate(NamespaceFields):
    slug: str = Field(description=_SLUG)


class NamespaceUpdate(NamespaceFields):
    pass


class NamespaceOut(CamelModel):
    id: str
    slug: str
    name: str
    style_prompt: str | None
    system_prompt: str | None
    style_images: list[str]
    negative_prompt: str | None
    template: str | None
    aspect_ratio: str | None
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class DeletedNamespace(CamelModel):
    slug: str
    deleted: bool = True
    # Its images and generations are kept, without a namespace.
    images_kept: int
