"""An enhancement as the API shows it (`POST /enhance`, the MCP tool `enhance_prompt`)."""

from __future__ import annotations

from banatie.enhance.schemas import EnhanceOut
from banatie.enhance.service import Enhancement


def present_enhancement(done: Enhancement) -> EnhanceOut:
    """The API shape of an enhancement (`POST /enhance`, the MCP tool `enhance_prompt`)."""
    return EnhanceOut(
        enhanced_prompt=done.result.prompt,
        original_prompt=done.request.prompt,
        detected_language=done.result.language,
        rationale=done.result.rationale,
        enhancer=done.result.enhancer,
        template=done.request.template,
        aspect_ratio=done.request.aspect_ratio,
    )
