"""Structured outputs of the MCP tools (each tool publishes its model as `outputSchema`)."""

from __future__ import annotations

from pydantic import Field

from banatie.flows.schemas import FlowOut
from banatie.mcp.results import ImageResult
from banatie.namespaces.schemas import NamespaceOut
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


class FlowList(CamelModel):
    flows: list[FlowOut]
    pagination: Pagination


class FlowDetail(CamelModel):
    flow: FlowOut
    images: list[ImageResult] = Field(
        description="the flow's images, the latest first (generated and uploaded)"
    )
    pagination: Pagination


class NamespaceList(CamelModel):
    namespaces: list[NamespaceOut]
    pagination: Pagination
