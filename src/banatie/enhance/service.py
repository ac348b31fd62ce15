"""Validate an enhancement request and hand it to the active `PromptEnhancer`."""

from __future__ import annotations

from dataclasses import dataclass

from banatie.generation import request as rules
from banatie.generation.request import DEFAULT_TEMPLATE, ImageParams
from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.ports import EnhancedPrompt, EnhancementRequest
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
    """The same rules as `POST /generations` (`banatie.generation.request`);
    `capabilities` is the active synthesizer's row: the prompt is written for that model."""
    params = rules.validate(
        ImageParams(prompt=prompt, aspect_ratio=aspect_ratio, template=template),
        capabilities=capabilities,
        max_prompt_chars=rt.settings.max_prompt_chars,
    )
    return EnhancementRequest(
        prompt=params.prompt,
        template=params.template or DEFAULT_TEMPLATE,
        aspect_ratio=params.aspect_ratio,
    )


async def enhance(rt: Runtime, prompt: str, template: str | None, aspect_ratio: str) -> Enhancement:
    """Provider failures propagate as `ProviderError` (502/503/504, 422 `CONTENT_BLOCKED`)."""
    request = validate(rt, prompt, template, aspect_ratio, await rt.synthesizer.capabilities())
    return Enhancement(request=request, result=await rt.enhancer.enhance(request))
