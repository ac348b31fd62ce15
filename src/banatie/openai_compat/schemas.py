"""OpenAI's shapes for images and models (snake_case, as OpenAI's API writes them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from banatie.schemas import StorableModel


class ImageGenerationRequest(StorableModel):
    # OpenAI's other options (quality, style, background, output_format …) are accepted and
    # ignored, so a tool that sends them keeps working.
    model_config = ConfigDict(extra="ignore")

    prompt: str = Field(description="What to draw; `@alias` references a Banatie image")
    model: str | None = Field(
        default=None, description="a Banatie model id (GET /openai/v1/models); default: active"
    )
    n: int = Field(default=1, ge=1, le=4, description="images to make, each a generation")
    size: str | None = Field(
        default=None,
        description="auto, 1024x1024, 1536x1024, 1024x1536 or any WxH: the nearest aspect ratio",
    )
    response_format: Literal["url", "b64_json"] | None = None
    user: str | None = Field(default=None, max_length=256)


class ImageData(BaseModel):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImagesResponse(BaseModel):
    created: int
    data: list[ImageData]
    size: str | None = Field(default=None, description="the size made, WxH")
    # Banatie's own: what was asked but not done (e.g. a mask), and the generations made.
    notes: list[str] | None = None
    generation_ids: list[str] = Field(default_factory=list)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]
