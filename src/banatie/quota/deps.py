"""The rate-limit dependency for generation endpoints: counts the request, sets the headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.quota import service
from banatie.quota.rate_limit import RateLimitState


async def generation_rate_limit(
    response: Response, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> RateLimitState | None:
    limits = await service.limits_for(session, project, runtime.settings)
    if limits.rate_limit is None:
        return None
    state = await runtime.rate_limiter.hit(limits.rate_limit, "generations", project.id)
    response.headers.update(state.headers())
    return state


GenerationRateLimit = Annotated[RateLimitState | None, Depends(generation_rate_limit)]
