"""The rate-limit dependency for generation endpoints: counts the request, sets the headers."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Depends, Response

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.quota import service
from banatie.quota.rate_limit import RateLimitState
from banatie.schemas import errors


async def generation_rate_limit(
    response: Response, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> RateLimitState | None:
    state = await service.count_generation_request(
        session, project, runtime.settings, runtime.rate_limiter
    )
    if state is not None:
        response.headers.update(state.headers())
    return state


GenerationRateLimit = Annotated[RateLimitState | None, Depends(generation_rate_limit)]

#: A route that runs the generation pipeline: counted against the plan's generation rate, with
#: the errors it may answer (`@router.post(path, **GENERATES)`).
GENERATES: Final[dict[str, Any]] = {
    "dependencies": [Depends(generation_rate_limit)],
    "responses": errors(409, 422, 429, 502, 504),
}
