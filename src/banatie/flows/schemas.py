"""API shapes of flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from banatie.schemas import CamelModel, RequestModel

_ALIASES = 'flow aliases -> image ids, e.g. {"@hero": "…"}; reserved: @last, @first, @upload'


class FlowCreate(RequestModel):
    aliases: dict[str, str] = Field(default_factory=dict, description=_ALIASES)
    meta: dict[str, Any] = Field(default_factory=dict)


class FlowAliasesUpdate(RequestModel):
    aliases: dict[str, str | None] = Field(
        description=_ALIASES + "; merged into the flow's aliases, null removes one"
    )


class FlowOut(CamelModel):
    id: str
    project_id: str
    aliases: dict[str, str]
    generation_count: int
    image_count: int
    last_generated_at: datetime | None
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class DeletedFlow(CamelModel):
    id: str
    deleted: bool = True
    generations_deleted: int
    images_deleted: int
    # Images holding a project alias survive the flow, with no flow.
    images_kept: list[str]


class FlowContextLast(CamelModel):
    generation_id: str
    image_id: str
    description: str | None = Field(description="what the enhancer was told the image shows")


class FlowContextOut(CamelModel):
    """What a step was told about its flow (null: no flow, or its first step)."""

    flow_id: str
    earlier_prompts: list[str] = Field(description="the earlier steps' prompts, oldest first")
    last: FlowContextLast | None = Field(description="the latest earlier step's image")
    last_passed_as_reference: bool = Field(
        description="that image went to the model too (the prompt named it: @last, …)"
    )
    used_by_enhancer: bool = Field(description="the enhancer saw this context (autoEnhance)")
