"""Structured outputs of the MCP tools (each tool publishes its model as `outputSchema`)."""

from __future__ import annotations

from pydantic import Field

from banatie.mcp.results import ImageResult
from banatie.schemas import CamelModel, Pagination


class GenerationResult(CamelModel):
    generation_id: str
    flow_id: str | None = Field(description="the flow this image continues: `@last` is it now")
    status: str
    prompt: str = Field(description="what was sent to the image model")
    original_prompt: str
    aspect_ratio: str
    template: str | None
    referenced_images: list[str] = Field(description="ids of the images passed to the model")
    alias_moved_from: str | None = Field(description="image that held the alias before")
    image: ImageResult


class ImageList(CamelModel):
    images: list[ImageResult]
    pagination: Pagination


class AliasResult(CamelModel):
    image: ImageResult
    alias_moved_from: str | None


class Deleted(CamelModel):
    id: str
    deleted: bool = True


class TransformResult(CamelModel):
    url: str
    signed: bool
    img_tag: str
