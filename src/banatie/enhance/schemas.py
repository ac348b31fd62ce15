"""API shapes of `POST /api/v1/enhance`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from banatie.providers.ports import TEMPLATES
from banatie.schemas import CamelModel, RequestModel

_DEFAULT_TEMPLATE, *_OTHER_TEMPLATES = TEMPLATES


class EnhanceCreate(RequestModel):
    prompt: Annotated[
        str, Field(description="What to draw, in any language; `@alias` tokens are kept")
    ]
    template: Annotated[
        str | None,
        Field(
            description=f"{_DEFAULT_TEMPLATE} (default), {', '.join(_OTHER_TEMPLATES[:-1])} or "
            f"{_OTHER_TEMPLATES[-1]}"
        ),
    ] = None
    aspect_ratio: Annotated[
        str,
        Field(
            description="one of the active model's aspect ratios (GET /api/info): "
            "1:1, 16:9, 9:16, …"
        ),
    ] = "1:1"


class EnhanceOut(CamelModel):
    enhanced_prompt: str = Field(description="The prompt as it would be sent to the image model")
    original_prompt: str
    detected_language: str = Field(description="ISO 639-1 code of the prompt's language")
    rationale: str = Field(description="What the enhancer changed and why")
    enhancer: str = Field(description="Which enhancer answered: local or gemini")
    template: str
    aspect_ratio: str
