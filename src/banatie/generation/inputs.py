"""A generation request's body as the pipeline's input (REST: one generation, a batch item)."""

from __future__ import annotations

from banatie.generation.request import image_fields
from banatie.generation.schemas import GenerationFields
from banatie.generation.service import NEW_FLOW, GenerationInput


def from_body(body: GenerationFields) -> tuple[GenerationInput, str | object | None]:
    """The input, and the flow to join: an id, None (no flow) or NEW_FLOW (`flowId` omitted)."""
    flow_id = body.flow_id if "flow_id" in body.model_fields_set else NEW_FLOW
    data = GenerationInput(
        **image_fields(body),
        reference_images=body.reference_images,
        alias=body.alias,
        flow_alias=body.flow_alias,
        meta=body.meta,
        webhook_url=body.webhook_url,
    )
    return data, flow_id
