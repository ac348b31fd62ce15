"""Live URLs: `GET /cdn/{org}/{project}/live/{scope}?prompt=…` answers with an image.

Hit (`banatie.live.lookup`): the cached image, never rate limited, costs nothing.

Miss (costs one generation, shared by every identical concurrent request):
    1. per request: the project's referrer allow-list and signature rule (403,
       `banatie.live.policy`);
    2. per process: one *flight* per cache key (`banatie.concurrency.single_flight`) that
       every concurrent identical miss awaits; it runs detached, so a client hanging up
       cancels nothing;
    3. across replicas: the flight *claims* the cache key in the database
       (`banatie.live.claims`) or waits for the replica that holds it;
    4. the claimant checks the client-IP limit (signed URLs skip it) and the plan's rate limit,
       then runs the ordinary pipeline (`generation.service.create`, which reserves and
       charges the monthly allowance); a refusal gives the claim back, a failure is recorded
       as `failed` for the waiters and retried by the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, replace
from typing import Literal

from banatie.accounts.errors import ProjectNotFound
from banatie.accounts.models import Project
from banatie.db.transactions import unit_of_work
from banatie.errors import ApiError, problem_of
from banatie.generation import service as generation
from banatie.generation.request import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_TEMPLATE,
    HasImageParams,
    image_fields,
)
from banatie.images import service as images
from banatie.images.errors import ImageNotFound
from banatie.live import claims
from banatie.live.cache_key import LiveRequest
from banatie.live.errors import (
    IpRateLimited,
    LiveImageNotGenerated,
    ScopeNotFound,
    ShuttingDown,
    WaitTimeout,
)
from banatie.live.lookup import find_ready, lookup, project_ref
from banatie.live.policy import Budget, Visit, admit
from banatie.live.state import CachedImage, ProjectRef
from banatie.observability import metrics
from banatie.quota import service as quota
from banatie.quota.rate_limit import RateLimitState
from banatie.runtime import Runtime

CacheStatus = Literal["HIT", "MISS"]


@dataclass(frozen=True)
class Outcome:
    image: CachedImage
    cache: CacheStatus
    rate: RateLimitState | None = None


async def fetch(
    rt: Runtime,
    org: str,
    project: str,
    request: LiveRequest,
    visit: Visit,
    *,
    use_lru: bool = True,
    generate: bool = True,
) -> Outcome:
    """The cached image, else (when `generate`: not for HEAD) a new one."""
    ref = await project_ref(rt, org, project)
    key = request.cache_key(ref.id)
    cached = await lookup(rt, key, request.scope, use_lru=use_lru)
    if cached is not None:
        return Outcome(cached, "HIT")
    if not generate:
        raise LiveImageNotGenerated()
    return await miss(rt, ref, key, request, visit)


async def miss(
    rt: Runtime, ref: ProjectRef, key: str, request: LiveRequest, visit: Visit
) -> Outcome:
    rules, requester = await admit(rt, ref, request.scope, visit)
    budget = Budget(rt, ref.id, rules, requester)
    # Each round answers at least its leader, so a waiter retrying after other clients'
    # refusals gets its own answer after at most one round per request ahead of it.
    deadline = time.monotonic() + rt.settings.live_wait_timeout_seconds
    while time.monotonic() < deadline:
        try:
            outcome, led = await rt.live.flights.run(
                key, lambda: _flight(rt, ref, key, request, budget)
            )
            if not led:
                metrics.LIVE_JOINS.labels("process").inc()
        except IpRateLimited as exc:
            # The leader's client IP was over its budget: one from the same IP (the leader
            # itself among them) gets that answer, any other waiter tries under its own.
            if not requester.may_differ_from(exc):
                raise
            await asyncio.sleep(0)
            continue
        # The rate-limit headers describe the leader's client IP budget, not a joiner's.
        return outcome if led else replace(outcome, rate=None)
    raise WaitTimeout("too many concurrent refusals for this live URL; retry")


async def _flight(
    rt: Runtime, ref: ProjectRef, key: str, request: LiveRequest, budget: Budget
) -> Outcome:
    """The one generation of `key` in this process (every identical miss awaits it): the
    cross-replica claim, then either another replica's image or ours."""
    try:
        deadline = time.monotonic() + rt.settings.live_wait_timeout_seconds
        waited = False
        while True:
            claim = await claims.claim(rt, ref, key, request, budget)
            if isinstance(claim, CachedImage):
                outcome = Outcome(claim, "MISS" if waited else "HIT")
                break
            if isinstance(claim, claims.Claimed):
                outcome = await _generate(rt, ref, key, request, budget, claim.entry_id)
                break
            if not waited:
                metrics.LIVE_JOINS.labels("replica").inc()
            waited = True
            ready = await claims.wait(rt, key, request.scope, deadline)
            if ready is not None:
                outcome = Outcome(ready, "MISS")
                break
            # The claim was given back (a refusal) or abandoned: claim it ourselves.
    except asyncio.CancelledError:
        # Shutting down: the waiters get an answer, not a cancellation they did not ask for.
        raise ShuttingDown() from None
    rt.live.hits.put(key, outcome.image)
    return outcome


async def _generate(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    budget: Budget,
    entry_id: str,
) -> Outcome:
    try:
        async with unit_of_work(rt.sessionmaker) as session:
            project = await session.get(Project, ref.id)
            if project is None:
                raise ProjectNotFound(f"project {ref.organization_slug}/{ref.slug} not found")
            await budget.charge()
            await quota.count_generation_request(session, project, rt.settings, rt.rate_limiter)
            async with claims.held(rt, entry_id):
                rt.live.generations_started += 1
                result = await generation.create(
                    rt,
                    session,
                    project,
                    generation_input(request, {"scope": request.scope, "cacheKey": key}),
                    flow_id=None,
                )
            image = result.image
            assert image is not None
            linked = await claims.link(session, entry_id, image.id, result.generation.id)
            if not linked:
                # The scope (and so this entry) was deleted while we generated: do not leave
                # an image behind.
                await images.delete(rt.image_cleanup, session, image)
    except ApiError:
        # A refusal (limits, quota, validation): nothing was generated. Give the claim back so
        # that waiters elsewhere decide under their own limits.
        await claims.release(rt, entry_id)
        raise
    except asyncio.CancelledError:
        # This process is stopping: give the claim back, so that a visitor waiting for it on
        # another replica has it generated there now (its generation is failed INTERRUPTED
        # by the shutdown's own sweep).
        with contextlib.suppress(Exception):
            await claims.release(rt, entry_id)
        raise
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await claims.fail(rt, entry_id, *_failure(exc))
        raise
    if not linked:
        raise ScopeNotFound(f"live scope {request.scope!r} was deleted")
    ready = await find_ready(rt, key, request.scope)
    if ready is None:  # pragma: no cover - deleted within a moment of being made
        raise ImageNotFound("the live image was deleted")
    return Outcome(ready, "MISS", budget.state)


def generation_input(
    source: HasImageParams, live_meta: dict[str, str]
) -> generation.GenerationInput:
    """What a live request (or a stored live entry) asks the ordinary pipeline for; the
    pipeline validates it with the rules of every surface (`banatie.generation.request`).

    A live URL cannot tell a default it was given from one left out (they are one cache
    key): with a namespace, the built-in aspect ratio and template give way to its defaults."""
    fields = image_fields(source)
    if fields["namespace"]:
        if fields["aspect_ratio"] == DEFAULT_ASPECT_RATIO:
            fields["aspect_ratio"] = None
        if fields["template"] == DEFAULT_TEMPLATE:
            fields["template"] = None
    return generation.GenerationInput(**fields, meta={"live": live_meta}, source="live")


def _failure(exc: BaseException) -> tuple[int, str, str]:
    """What waiters on other replicas are told of a generation that failed here."""
    problem = problem_of(exc)  # the API's one mapping (a provider's error, a dependency down)
    return problem.status, problem.code, problem.message
