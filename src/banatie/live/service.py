"""Live URLs: `GET /cdn/{org}/{project}/live/{scope}?prompt=…` answers with an image.

Hit (`banatie.live.lookup`): the cached image, never rate limited, costs nothing.

Miss (costs one generation, shared by every identical concurrent request):
    1. per request: the project's referrer allow-list and signature rule (403,
       `banatie.live.policy`);
    2. per process: one *flight* per cache key (an asyncio future) that every concurrent
       identical miss awaits; it runs detached, so a client hanging up cancels nothing;
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
from typing import Any, Literal

from banatie.accounts.errors import ProjectNotFound
from banatie.accounts.models import Project
from banatie.db.transactions import unit_of_work
from banatie.errors import ApiError
from banatie.generation import service as generation
from banatie.generation.request import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_TEMPLATE,
    HasImageParams,
    image_fields,
)
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.images.errors import ImageNotFound
from banatie.live import claims
from banatie.live.cache_key import LiveRequest
from banatie.live.errors import (
    IpRateLimited,
    LiveImageNotGenerated,
    ScopeNotFound,
    WaitTimeout,
)
from banatie.live.lookup import find_ready, lookup, project_ref
from banatie.live.policy import Budget, Policy, Requester, Visit, admit
from banatie.live.state import CachedImage, ProjectRef
from banatie.providers.errors import ProviderError
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
    state = rt.live
    loop = asyncio.get_running_loop()
    # Each round answers at least its leader, so a waiter retrying after other clients'
    # refusals gets its own answer after at most one round per request ahead of it.
    deadline = time.monotonic() + rt.settings.live_wait_timeout_seconds
    while time.monotonic() < deadline:
        future = state.flights.get(key)
        leading = future is None
        if future is None:
            future = loop.create_future()
            future.add_done_callback(_retrieve)
            state.flights[key] = future
            task = asyncio.create_task(_flight(rt, ref, key, request, rules, requester, future))
            state.tasks.add(task)
            task.add_done_callback(state.tasks.discard)
        try:
            outcome: Outcome = await asyncio.shield(future)
        except IpRateLimited as exc:
            if leading or not requester.may_differ_from(exc):
                raise
            # The leader's IP was over its budget, not ours: try under our own.
            await asyncio.sleep(0)
            continue
        # The rate-limit headers describe the leader's client IP budget, not a joiner's.
        return outcome if leading else replace(outcome, rate=None)
    raise WaitTimeout("too many concurrent refusals for this live URL; retry")


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # mark it retrieved: every waiter may have gone away


async def _flight(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    rules: Policy,
    requester: Requester,
    future: asyncio.Future[Outcome],
) -> None:
    state = rt.live
    try:
        outcome = await _claim_and_generate(rt, ref, key, request, rules, requester)
    except BaseException as exc:
        if state.flights.get(key) is future:
            del state.flights[key]
        if not future.done():
            if isinstance(exc, asyncio.CancelledError):
                future.set_exception(
                    ApiError("the server is shutting down", code="UNAVAILABLE", status=503)
                )
            else:
                future.set_exception(exc)
        if not isinstance(exc, Exception):
            raise
        return
    state.hits.put(key, outcome.image)
    if state.flights.get(key) is future:
        del state.flights[key]
    future.set_result(outcome)


async def _claim_and_generate(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    rules: Policy,
    requester: Requester,
) -> Outcome:
    deadline = time.monotonic() + rt.settings.live_wait_timeout_seconds
    budget = Budget(rt, ref.id, rules, requester)
    waited = False
    while True:
        claim = await claims.claim(rt, ref, key, request, rules, budget)
        if isinstance(claim, CachedImage):
            return Outcome(claim, "MISS" if waited else "HIT")
        if isinstance(claim, claims.Claimed):
            break
        waited = True
        ready = await claims.wait(rt, key, request.scope, deadline)
        if ready is not None:
            return Outcome(ready, "MISS")
        # The claim was given back (a refusal) or abandoned: claim it ourselves.
    return await _generate(rt, ref, key, request, budget, claim.entry_id)


async def _generate(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    budget: Budget,
    entry_id: str,
) -> Outcome:
    try:
        async with rt.sessionmaker() as session:
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
    except ApiError:
        # A refusal (limits, quota, validation): nothing was generated. Give the claim back so
        # that waiters elsewhere decide under their own limits.
        await claims.release(rt, entry_id)
        raise
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await claims.fail(rt, entry_id, *_failure(exc))
        raise
    image = result.image
    assert image is not None
    if not await claims.link(rt, entry_id, image.id, result.generation.id):
        # The scope (and so this entry) was deleted while we generated: do not leave an image.
        async with unit_of_work(rt.sessionmaker) as session:
            orphan = await image_repository.get(session, ref.id, image.id)
            if orphan is not None:
                await images.delete(rt, session, orphan)
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
    # TODO(issue 10): call the one provider-error -> HTTP mapping once it lands (BOARD.md).
    if isinstance(exc, ProviderError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, asyncio.CancelledError):
        return 503, "UNAVAILABLE", "the generation was interrupted"
    return 500, "INTERNAL_ERROR", "the generation failed"
