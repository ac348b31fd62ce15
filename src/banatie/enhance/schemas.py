"""API shapes of `POST /api/v1/enhance`."""

from __future__ import annotations

from pydantic import Field

from banatie.schemas import CamelModel, RequestModel


class EnhanceCreate(RequestModel):
    prompt: str = Field(description="What to draw, in any language; `@alias` tokens are kept")
    template: str | None = Field(
        default=None,
        description="general (default), photorealistic, illustration, minimalist, sticker, "
        "product or comic",
    )
    aspect_ratio: str = Field(
        default="1:1",
        description="one of the active model's aspect ratios (GET /api/info): 1:1, 16:9, 9:16, …",
    )


class EnhanceOut(CamelModel):
    enhanced_prompt: str = Field(description="The prompt as it would be sent to the image model")
    original_prompt: str
    detected_language: str = Field(description="ISO 639-1 code of the prompt's language")
    rationale: str = Field(description="What the enhancer changed and why")
    enhancer: str = Field(description="Which enhancer answered: local or gemini")
    template: str
    aspect_ratio: str
