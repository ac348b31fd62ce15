"""Validate an enhancement request and hand it to the active `PromptEnhancer`."""

from __future__ import annotations

from dataclasses import dataclass

from banatie.errors import ValidationError
from banatie.providers.capabilities import ImageCapabilities, check_output
from banatie.providers.ports import TEMPLATES, EnhancedPrompt, EnhancementRequest
from banatie.runtime import Runtime


@dataclass(frozen=True)
class Enhancement:
    request: EnhancementRequest
    result: EnhancedPrompt


def validate(
    rt: Runtime,
    prompt: str,
    template: str | None,
    aspect_ratio: str,
    capabilities: ImageCapabilities,
) -> EnhancementRequest:
    """The same rules as `POST /generations` (one message per problem, code VALIDATION_ERROR);
    `capabilities` is the active synthesizer's row: the prompt is written for that model."""
    text = prompt.strip()
    if not text:
        raise ValidationError("prompt must not be empty")
    limit = rt.settings.max_prompt_chars
    if len(text) > limit:
        raise ValidationError(f"prompt is {len(text)} characters; the limit is {limit}")
    check_output(capabilities, aspect_ratio)
    if template is not None and template not in TEMPLATES:
        raise ValidationError(
            f"template {template!r} is not supported; use one of " + ", ".join(TEMPLATES)
        )
    return EnhancementRequest(
        prompt=text, template=template or "general", aspect_ratio=aspect_ratio
    )


async def enhance(rt: Runtime, prompt: str, template: str | None, aspect_ratio: str) -> Enhancement:
    """Provider failures propagate as `ProviderError` (502/503/504, 422 `CONTENT_BLOCKED`)."""
    request = validate(rt, prompt, template, aspect_ratio, await rt.synthesizer.capabilities())
    return Enhancement(request=request, result=await rt.enhancer.enhance(request))
