"""A flow's memory: what a step is told about the steps before it (DESIGN.md §2, flows).

The enhancer of a step gets the flow's earlier original prompts (oldest first) and the
description of the latest earlier image, so "now from behind" or "the same character at night"
keeps subject, palette and style. The earlier image itself reaches the model only when the
prompt names it (`@last`, `@first`, a flow alias): `lastPassedAsReference` says so. What was
used is stored with the generation and shown as its `flowContext`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.flows import repository
from banatie.flows.models import Flow
from banatie.images import repository as images

#: How many earlier prompts a step is told (the latest ones).
MAX_EARLIER_PROMPTS: Final = 8


async def recall(
    session: AsyncSession,
    project_id: str,
    flow: Flow | None,
    *,
    before: datetime,
    reference_ids: list[str],
    enhanced: bool,
) -> dict[str, Any] | None:
    """The context of a step made at `before`; None when it has no earlier step."""
    if flow is None:
        return None
    earlier = await repository.earlier_steps(session, flow.id, before, MAX_EARLIER_PROMPTS)
    if not earlier:
        return None
    last_step = earlier[-1]
    image = (
        await images.get(session, project_id, last_step.output_image_id)
        if last_step.output_image_id
        else None
    )
    last = None
    if image is not None:
        last = {
            "generationId": last_step.id,
            "imageId": image.id,
            "description": image.description or image.alt_text,
        }
    return {
        "flowId": flow.id,
        "earlierPrompts": [step.original_prompt for step in earlier],
        "last": last,
        "lastPassedAsReference": image is not None and image.id in reference_ids,
        # autoEnhance off: nothing rewrote the prompt, so the context only informed references.
        "usedByEnhancer": enhanced,
    }
