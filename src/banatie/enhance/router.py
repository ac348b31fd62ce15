"""`POST /api/v1/enhance`: what autoEnhance would send to the image model, without generating.

Project key; rate limited like generations, but never charged to the monthly allowance.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from banatie.deps import ProjectDep, RuntimeDep
from banatie.enhance import service
from banatie.enhance.presenters import present_enhancement
from banatie.enhance.schemas import EnhanceCreate, EnhanceOut
from banatie.quota.deps import generation_rate_limit
from banatie.schemas import ERROR_RESPONSES, Envelope, ErrorEnvelope, ok

router = APIRouter(
    prefix="/api/v1/enhance",
    tags=["enhance"],
    responses={
        **ERROR_RESPONSES,
        403: {"model": ErrorEnvelope, "description": "Not a project key"},
        422: {"model": ErrorEnvelope, "description": "CONTENT_BLOCKED by the provider"},
        429: {"model": ErrorEnvelope, "description": "RATE_LIMIT_EXCEEDED"},
        502: {"model": ErrorEnvelope, "description": "PROVIDER_ERROR"},
        503: {"model": ErrorEnvelope, "description": "PROVIDER_ERROR, provider rate limited"},
        504: {"model": ErrorEnvelope, "description": "PROVIDER_TIMEOUT"},
    },
)


@router.post("", dependencies=[Depends(generation_rate_limit)])
async def enhance_prompt(
    body: EnhanceCreate, runtime: RuntimeDep, project: ProjectDep
) -> Envelope[EnhanceOut]:
    """Detect the prompt's language, translate it (Gemini) and rewrite it for the template."""
    done = await service.enhance(runtime, body.prompt, body.template, body.aspect_ratio)
    return ok(present_enhancement(done))
