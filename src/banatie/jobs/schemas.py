"""API shapes of batches."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from banatie.generation.schemas import GenerationFields
from banatie.schemas import CamelModel, RequestModel

MAX_BATCH_ITEMS = 50
# Fields a batch may give once for every item (an item's own value wins).
SHARED_FIELDS = frozenset({"aspect_ratio", "image_size", "template", "auto_enhance", "namespace"})


class BatchCreate(RequestModel):
    items: list[GenerationFields] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description=f"1 to {MAX_BATCH_ITEMS} generations, each the body of POST /generations",
    )
    aspect_ratio: str | None = Field(default=None, description="for every item that gives none")
    image_size: str | None = Field(default=None, description="for every item that gives none")
    template: str | None = Field(default=None, description="for every item that gives none")
    auto_enhance: bool | None = Field(default=None, description="for every item that gives none")
    namespace: str | None = Field(
        default=None, description="a namespace slug, for every item that gives none"
    )
    webhook_url: str | None = Field(
        default=None,
        description="told `batch.completed` (signed) when the last item finishes, besides the "
        "project's webhook endpoints (docs/webhooks.md)",
    )


class BatchItemOut(CamelModel):
    index: int
    generation_id: str
    status: str
    alias: str | None
    output_image_id: str | None
    error_code: str | None


class BatchOut(CamelModel):
    id: str
    status: Literal["pending", "processing", "completed"] = Field(
        description="completed: every item is `success` or `failed`"
    )
    total: int
    counts: dict[str, int] = Field(
        description="items by status: pending, processing, success, failed"
    )
    items: list[BatchItemOut]
    webhook_url: str | None
    created_at: datetime
    completed_at: datetime | None = Field(
        description="set (and `batch.completed` sent) by the run that finished the last item, "
        "right after that item's own commit"
    )
