"""Live URLs: `GET /cdn/{org}/{project}/live/{scope}?prompt=…` answers with an image.

Hit (the common case, never rate limited, costs nothing):
    project ref (in-process cache, else one indexed SELECT) -> cache key -> in-process LRU of
    cache key -> image, else one indexed SELECT of the ready entry joined to its image.

Miss (costs one generation, shared by every identical concurrent request):
    1. per request: the project's referrer allow-list and signature rule (403);
    2. per process: one *flight* per cache key (an asyncio future) that every concurrent
       identical miss awaits; it runs detached, so a client hanging up cancels nothing;
    3. across replicas: the flight *claims* the cache key in the database (a unique `pending`
       row, inserted under the scope's row lock on PostgreSQL, after which the scope's
       newGenerationsLimit is counted). A replica that finds a fresh `pending` row polls it
       until it is `ready` (same image) or `failed` (same error); a claim whose heartbeat
       stopped is taken over;
    4. the claimant checks the client-IP limit (signed URLs skip it) and the plan's rate limit,
       then runs the ordinary pipeline (`generation.service.create`, which reserves and
       charges the monthly allowance); a refusal gives the claim back, a failure is recorded
       as `failed` for the waiters and retried by the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.db.transactions import unit_of_work
from banatie.errors import ApiError, Forbidden, NotFound, ValidationError
from banatie.generation import repository as generation_repository
from banatie.generation import service as generation
from banatie.generation.request import DEFAULT_ASPECT_RATIO, DEFAULT_TEMPLATE, image_fields
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.live import repository
from banatie.live.cache_key import LiveRequest
from banatie.live.client_ip import client_ip, is_in
from banatie.live.models import LiveEntry, LiveScope, LiveSettings
from banatie.live.signing import live_path, verify
from banatie.live.state import CachedImage, ProjectRef
from banatie.providers.errors import ProviderError
from banatie.quota import service as quota
from banatie.quota.errors import RateLimitExceeded
from banatie.quota.rate_limit import RateLimitState, parse_rate
from banatie.runtime import Runtime
from banatie.validation import check_meta

log = logging.getLogger(__name__)
# Until live/ runs in one unit of work per request: a deletion here stands before what follows
# (a failed regeneration rolls back to the last commit).
DELETED = "the deleted image stands before the next step"

CacheStatus = Literal["HIT", "MISS"]


class ScopeLimitExceeded(ApiError):
    status = 429
    code = "SCOPE_LIMIT_EXCEEDED"


class ScopeGenerationsDisabled(Forbidden):
    code = "SCOPE_GENERATIONS_DISABLED"


class ReferrerNotAllowed(Forbidden):
    code = "REFERRER_NOT_ALLOWED"


class SignatureRequired(Forbidden):
    code = "SIGNATURE_REQUIRED"


class IpRateLimited(RateLimitExceeded):
    """The client IP's miss budget is spent. Specific to that IP: a request from another client
    that was waiting on this flight tries again under its own budget; one from the same IP gets
    this answer at once (its budget is the same)."""

    client_ip: str | None = None


class GenerationFailed(ApiError):
    """A generation another replica ran for this cache key failed; its error, replayed."""


class WaitTimeout(ApiError):
    status = 504
    code = "LIVE_GENERATION_TIMEOUT"


@dataclass(frozen=True)
class Outcome:
    image: CachedImage
    cache: CacheStatus
    rate: RateLimitState | None = None


@dataclass(frozen=True)
class Requester:
    ip: str
    signed: bool
    owner: bool = False  # from BANATIE_LIVE_OWNER_IPS: not limited per IP, like signed URLs


class _Budget:
    """The client-IP miss budget of one flight, charged at most once: before a scope is
    created on first use (so anonymous requests cannot create scopes without limit), else
    once the flight holds the claim (so only requests that generate are counted)."""

    def __init__(self, rt: Runtime, project_id: str, rules: Policy, requester: Requester) -> None:
        self.rt, self.project_id, self.rules, self.requester = rt, project_id, rules, requester
        self.state: RateLimitState | None = None
        self.charged = False

    async def charge(self) -> None:
        if self.charged or self.requester.signed or self.requester.owner:
            return
        limit = self.rules.ip_rate_limit
        try:
            self.state = await self.rt.rate_limiter.hit(
                limit, "live-ip", f"{self.project_id}:{self.requester.ip}"
            )
        except RateLimitExceeded as exc:
            refusal = IpRateLimited(
                f"new live images from one client are limited to {limit}; retry in "
                f"{exc.headers.get('Retry-After', '?')} s (cached images are always served)",
                details={**(exc.details or {}), "limit": "client_ip"},
                headers=exc.headers,
            )
            refusal.client_ip = self.requester.ip
            raise refusal from exc
        self.charged = True


@dataclass(frozen=True)
class Policy:
    """A project's live settings with the server's defaults filled in."""

    allowed_referrers: tuple[str, ...]
    require_signature: bool
    signing_secret: str | None
    ip_rate_limit: str
    auto_create_scopes: bool
    default_allow_new_generations: bool
    default_new_generations_limit: int


def policy(row: LiveSettings | None, rt: Runtime) -> Policy:
    settings = rt.settings
    if row is None:
        return Policy(
            allowed_referrers=(),
            require_signature=False,
            signing_secret=None,
            ip_rate_limit=settings.live_ip_rate_limit,
            auto_create_scopes=True,
            default_allow_new_generations=True,
            default_new_generations_limit=settings.live_scope_generations_limit,
        )
    return Policy(
        allowed_referrers=tuple(row.allowed_referrers or ()),
        require_signature=row.require_signature,
        signing_secret=row.signing_secret,
        ip_rate_limit=row.ip_rate_limit or settings.live_ip_rate_limit,
        auto_create_scopes=row.auto_create_scopes,
        default_allow_new_generations=row.default_allow_new_generations,
        default_new_generations_limit=(
            row.default_new_generations_limit
            if row.default_new_generations_limit is not None
            else settings.live_scope_generations_limit
        ),
    )


def normalize_domain(domain: str) -> str:
    value = domain.strip().lower()
    if "://" in value:
        try:
            value = urlsplit(value).hostname or ""
        except ValueError:  # e.g. "http://[::1": not a URL, so not a domain either
            return ""
    return value.removeprefix("*.").strip(".").split(":", 1)[0]


def referrer_allowed(referer: str | None, allowed: tuple[str, ...]) -> bool:
    """A domain admits itself and its subdomains. No Referer is refused: a hotlinker could
    always strip it (pages with `Referrer-Policy: no-referrer` cannot trigger generations)."""
    if not allowed:
        return True
    if not referer:
        return False
    try:
        host = (urlsplit(referer).hostname or "").rstrip(".")
    except ValueError:
        return False
    return bool(host) and any(
        host == domain or host.endswith("." + domain) for domain in allowed if domain
    )


# -- the hit path --------------------------------------------------------------------------


async def project_ref(rt: Runtime, org: str, project: str) -> ProjectRef:
    state = rt.live
    ref = state.projects.get((org, project))
    if ref is None:
        async with rt.engine.connect() as conn:
            ref = await repository.find_project(conn, org, project)
        if ref is None:
            raise NotFound(f"project {org}/{project} not found", code="PROJECT_NOT_FOUND")
        state.projects.put((org, project), ref)
    return ref


async def lookup(rt: Runtime, key: str, scope: str, *, use_lru: bool = True) -> CachedImage | None:
    if use_lru:
        cached = rt.live.hits.get(key)
        if cached is not None:
            return cached
    async with rt.engine.connect() as conn:
        cached = await repository.find_ready(conn, key, scope)
    if cached is not None:
        rt.live.hits.put(key, cached)
    return cached


async def fetch(
    rt: Runtime,
    org: str,
    project: str,
    request: LiveRequest,
    *,
    query: list[tuple[str, str]],
    referer: str | None,
    peer: str | None,
    via_proxy: bool = False,
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
        raise NotFound(
            "this live image has not been generated yet; a GET generates it (HEAD never does)",
            code="LIVE_IMAGE_NOT_GENERATED",
        )
    return await miss(rt, ref, key, request, query, referer, peer, via_proxy)


# -- the miss path -------------------------------------------------------------------------


async def miss(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    query: list[tuple[str, str]],
    referer: str | None,
    peer: str | None,
    via_proxy: bool = False,
) -> Outcome:
    async with rt.sessionmaker() as session:
        rules = policy(await repository.get_settings(session, ref.id), rt)
    path = live_path(ref.organization_slug, ref.slug, request.scope)
    signed = verify(rules.signing_secret, path, query)
    if rules.require_signature and not signed:
        raise SignatureRequired(
            "this project accepts only signed live URLs for new images; sign it with the "
            "project's live signing secret (POST /api/v1/live/urls builds one)"
        )
    if not signed and not referrer_allowed(referer, rules.allowed_referrers):
        raise ReferrerNotAllowed(
            "new images can only be requested from pages on "
            + ", ".join(rules.allowed_referrers)
            + (" (this request sent no Referer)" if not referer else "")
        )
    ip = client_ip(peer)
    # A request a proxy passed on is not this machine's own visitor, even from loopback.
    owner = not via_proxy and is_in(ip, rt.settings.resolved_live_owner_ips)
    requester = Requester(ip, signed, owner=owner)

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
            if leading or not _own_budget_differs(requester, exc):
                raise
            # The leader's IP was over its budget, not ours: try under our own.
            await asyncio.sleep(0)
            continue
        # The rate-limit headers describe the leader's client IP budget, not a joiner's.
        return outcome if leading else replace(outcome, rate=None)
    raise WaitTimeout(
        "too many concurrent refusals for this live URL; retry", headers={"Retry-After": "5"}
    )


def _own_budget_differs(requester: Requester, refusal: IpRateLimited) -> bool:
    """Whether a waiter could be answered otherwise than the leader's per-IP refusal."""
    return requester.signed or requester.owner or requester.ip != refusal.client_ip


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


@dataclass(frozen=True)
class _Claimed:
    entry_id: str


@dataclass(frozen=True)
class _Busy:
    pass


async def _claim_and_generate(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    rules: Policy,
    requester: Requester,
) -> Outcome:
    settings = rt.settings
    deadline = time.monotonic() + settings.live_wait_timeout_seconds
    budget = _Budget(rt, ref.id, rules, requester)
    waited = False
    while True:
        claim = await _claim(rt, ref, key, request, rules, budget)
        if isinstance(claim, CachedImage):
            return Outcome(claim, "MISS" if waited else "HIT")
        if isinstance(claim, _Claimed):
            break
        waited = True
        ready = await _wait(rt, key, request.scope, deadline)
        if ready is not None:
            return Outcome(ready, "MISS")
        # The claim was given back (a refusal) or abandoned: claim it ourselves.
    return await _generate(rt, ref, key, request, budget, claim.entry_id)


async def _scope(
    session: AsyncSession, project_id: str, slug: str, rules: Policy, budget: _Budget
) -> LiveScope:
    scope = await repository.get_scope(session, project_id, slug)
    if scope is not None:
        return scope
    if not rules.auto_create_scopes:
        raise NotFound(
            f"live scope {slug!r} does not exist and this project does not create scopes on "
            "first use (create it with POST /api/v1/live/scopes)",
            code="SCOPE_NOT_FOUND",
        )
    await budget.charge()
    scope = LiveScope(
        id=new_id(),
        project_id=project_id,
        slug=slug,
        allow_new_generations=rules.default_allow_new_generations,
        new_generations_limit=rules.default_new_generations_limit,
        meta={},
    )
    if await repository.insert_scope(session, scope):
        return scope
    found = await repository.get_scope(session, project_id, slug)
    if found is None:  # pragma: no cover - inserted and deleted within a moment
        raise NotFound(f"live scope {slug!r} not found", code="SCOPE_NOT_FOUND")
    return found


def _disabled(scope: LiveScope) -> ScopeGenerationsDisabled:
    return ScopeGenerationsDisabled(
        f"live scope {scope.slug!r} does not allow new generations (allowNewGenerations is "
        "false); cached images are still served"
    )


async def _claim(
    rt: Runtime, ref: ProjectRef, key: str, request: LiveRequest, rules: Policy, budget: _Budget
) -> CachedImage | _Claimed | _Busy:
    settings = rt.settings
    owner = rt.live.instance
    for _ in range(5):
        async with rt.sessionmaker() as session:
            scope = await _scope(session, ref.id, request.scope, rules, budget)
            await repository.lock_scope(session, scope.id)
            entry = await repository.get_entry(session, key)
            now = utcnow()
            if entry is not None:
                if entry.status == "ready":
                    await session.rollback()
                    async with rt.engine.connect() as conn:
                        ready = await repository.find_ready(conn, key, request.scope)
                    if ready is not None:
                        return ready
                    continue
                stale = now - timedelta(seconds=settings.live_claim_stale_seconds)
                if entry.status == "pending" and entry.heartbeat_at > stale:
                    await session.rollback()
                    return _Busy()
                # Failed before (the next request retries) or abandoned by a dead replica.
                if not scope.allow_new_generations:
                    raise _disabled(scope)
                if not await repository.take_over(session, entry, owner, now):
                    await session.rollback()
                    continue
                entry_id = entry.id
            else:
                if not scope.allow_new_generations:
                    raise _disabled(scope)
                entry_id = new_id()
                session.add(
                    LiveEntry(
                        id=entry_id,
                        project_id=ref.id,
                        scope_id=scope.id,
                        cache_key=key,
                        status="pending",
                        **image_fields(request),
                        owner=owner,
                        heartbeat_at=now,
                    )
                )
                try:
                    await session.flush()
                except IntegrityError:
                    await session.rollback()  # another replica claimed it a moment ago
                    continue
            # Counted after our row is in, under the scope lock (PostgreSQL) or the database's
            # write lock (SQLite): concurrent claims can never overshoot the limit.
            live = await repository.count_live(session, scope.id)
            slug, limit = scope.slug, scope.new_generations_limit
            if live > limit:
                await session.rollback()
                raise ScopeLimitExceeded(
                    f"live scope {slug!r} holds {live - 1} images, its limit "
                    f"(newGenerationsLimit={limit}); raise the limit or delete images",
                    details={"limit": "scope", "scope": slug, "newGenerationsLimit": limit},
                )
            await session.commit()
            return _Claimed(entry_id)
    return _Busy()


async def _wait(rt: Runtime, key: str, scope: str, deadline: float) -> CachedImage | None:
    """Poll another replica's claim: its image, its error (raised), or None to claim again."""
    settings = rt.settings
    stale = timedelta(seconds=settings.live_claim_stale_seconds)
    while time.monotonic() < deadline:
        await asyncio.sleep(settings.live_poll_seconds * random.uniform(0.75, 1.25))
        async with rt.engine.connect() as conn:
            row = await repository.entry_state(conn, key)
            if row is None:
                return None
            status, heartbeat_at, error_status, error_code, error_message = row
            if status == "ready":
                ready = await repository.find_ready(conn, key, scope)
                if ready is not None:
                    return ready
                continue
        if status == "failed":
            raise GenerationFailed(
                error_message or "the generation failed",
                code=error_code or "PROVIDER_ERROR",
                status=error_status or 502,
            )
        if heartbeat_at < utcnow() - stale:
            return None
    raise WaitTimeout(
        "another server is still generating this image; retry in a moment",
        headers={"Retry-After": "5"},
    )


async def _heartbeat(rt: Runtime, entry_id: str) -> None:
    interval = max(0.05, rt.settings.live_claim_stale_seconds / 3)
    while True:
        await asyncio.sleep(interval)
        try:
            async with rt.engine.begin() as conn:
                await repository.heartbeat(conn, entry_id, rt.live.instance)
        except Exception:  # a missed beat only risks a takeover; keep generating
            log.warning("live claim heartbeat failed for %s", entry_id, exc_info=True)


async def _release(rt: Runtime, entry_id: str) -> None:
    async with rt.engine.begin() as conn:
        await repository.release(conn, entry_id, rt.live.instance)


async def _generate(
    rt: Runtime,
    ref: ProjectRef,
    key: str,
    request: LiveRequest,
    budget: _Budget,
    entry_id: str,
) -> Outcome:
    owner = rt.live.instance
    heartbeat: asyncio.Task[None] | None = None
    try:
        async with rt.sessionmaker() as session:
            project = await session.get(Project, ref.id)
            if project is None:
                raise NotFound(f"project {ref.organization_slug}/{ref.slug} not found")
            await budget.charge()
            await quota.count_generation_request(session, project, rt.settings, rt.rate_limiter)
            heartbeat = asyncio.create_task(_heartbeat(rt, entry_id))
            rt.live.generations_started += 1
            result = await generation.create(
                rt,
                session,
                project,
                generation.GenerationInput(
                    **_namespace_may_decide(image_fields(request)),
                    meta={"live": {"scope": request.scope, "cacheKey": key}},
                    source="live",
                ),
                flow_id=None,
            )
    except ApiError:
        # A refusal (limits, quota, validation): nothing was generated. Give the claim back so
        # that waiters elsewhere decide under their own limits.
        await _stop(heartbeat)
        await _release(rt, entry_id)
        raise
    except BaseException as exc:
        await _stop(heartbeat)
        status, code, message = _failure(exc)
        with contextlib.suppress(Exception):
            async with rt.engine.begin() as conn:
                await repository.mark_failed(conn, entry_id, owner, status, code, message)
        raise
    await _stop(heartbeat)
    image = result.image
    assert image is not None
    async with rt.engine.begin() as conn:
        linked = await repository.mark_ready(conn, entry_id, image.id, result.generation.id)
    if not linked:
        # The scope (and so this entry) was deleted while we generated: do not leave an image.
        async with unit_of_work(rt.sessionmaker) as session:
            orphan = await image_repository.get(session, ref.id, image.id)
            if orphan is not None:
                await images.delete(rt, session, orphan)
        raise NotFound(f"live scope {request.scope!r} was deleted", code="SCOPE_NOT_FOUND")
    async with rt.engine.connect() as conn:
        ready = await repository.find_ready(conn, key, request.scope)
    if ready is None:  # pragma: no cover - deleted within a moment of being made
        raise NotFound("the live image was deleted", code="IMAGE_NOT_FOUND")
    return Outcome(ready, "MISS", budget.state)


def _namespace_may_decide(fields: dict[str, Any]) -> dict[str, Any]:
    """A live URL cannot tell a default it was given from one left out (they are one cache
    key): with a namespace, the built-in aspect ratio and template give way to its defaults."""
    if fields["namespace"]:
        if fields["aspect_ratio"] == DEFAULT_ASPECT_RATIO:
            fields["aspect_ratio"] = None
        if fields["template"] == DEFAULT_TEMPLATE:
            fields["template"] = None
    return fields


def _failure(exc: BaseException) -> tuple[int, str, str]:
    if isinstance(exc, ProviderError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, asyncio.CancelledError):
        return 503, "UNAVAILABLE", "the generation was interrupted"
    return 500, "INTERNAL_ERROR", "the generation failed"


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


# -- scopes, settings and regeneration (the API) ---------------------------------------------


async def get_scope(session: AsyncSession, project: Project, slug: str) -> LiveScope:
    scope = await repository.get_scope(session, project.id, slug)
    if scope is None:
        raise NotFound(f"live scope {slug!r} not found", code="SCOPE_NOT_FOUND")
    return scope


async def create_scope(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    slug: str,
    *,
    allow_new_generations: bool | None,
    new_generations_limit: int | None,
    meta: dict[str, Any],
) -> LiveScope:
    rules = policy(await repository.get_settings(session, project.id), rt)
    scope = LiveScope(
        id=new_id(),
        project_id=project.id,
        slug=slug,
        allow_new_generations=(
            rules.default_allow_new_generations
            if allow_new_generations is None
            else allow_new_generations
        ),
        new_generations_limit=(
            rules.default_new_generations_limit
            if new_generations_limit is None
            else new_generations_limit
        ),
        meta=check_meta(meta, rt.settings.max_meta_bytes),
    )
    if not await repository.insert_scope(session, scope):
        raise ApiError(
            f"live scope {slug!r} already exists", code="SCOPE_ALREADY_EXISTS", status=409
        )
    return scope


async def delete_image(rt: Runtime, session: AsyncSession, entry: LiveEntry) -> None:
    """Delete an entry and its image (the next request for its URL generates again)."""
    image = (
        await image_repository.get(session, entry.project_id, entry.image_id)
        if entry.image_id
        else None
    )
    rt.live.forget(entry.cache_key)
    await session.delete(entry)
    await session.commit()
    if image is not None:
        await images.delete(rt, session, image)
        await transactions.commit_early(session, why=DELETED)
    rt.live.forget(entry.cache_key)


async def delete_scope(
    rt: Runtime, session: AsyncSession, project: Project, scope: LiveScope
) -> int:
    """The scope, its entries and their images (blobs and variants too). Returns how many
    images went."""
    entries = await repository.scope_entries(session, scope.id)
    image_ids = [entry.image_id for entry in entries if entry.image_id]
    keys = [entry.cache_key for entry in entries]
    rt.live.forget(*keys)
    await session.delete(scope)
    await session.commit()
    deleted = 0
    for image in await image_repository.get_many(session, project.id, image_ids):
        await images.delete(rt, session, image)
        await transactions.commit_early(session, why=DELETED)
        deleted += 1
    rt.live.forget(*keys)
    return deleted


async def regenerate_entry(
    rt: Runtime, session: AsyncSession, project: Project, entry: LiveEntry
) -> LiveEntry:
    """Generate the entry's request again into a new image; the live URL moves to it and the
    old image (with its variants) is deleted. Charged like any generation."""
    if entry.status != "ready":
        raise ApiError(
            "this live image is still being generated or failed; request its URL instead",
            code="GENERATION_IN_PROGRESS",
            status=409,
        )
    old = (
        await image_repository.get(session, project.id, entry.image_id) if entry.image_id else None
    )
    existing = (
        await generation_repository.get(session, project.id, entry.generation_id)
        if entry.generation_id
        else None
    )
    entry_id, cache_key = entry.id, entry.cache_key
    if existing is not None:
        result = await generation.regenerate(rt, session, project, existing)
    else:
        result = await generation.create(
            rt,
            session,
            project,
            generation.GenerationInput(
                **_namespace_may_decide(image_fields(entry)),
                meta={"live": {"cacheKey": cache_key}},
                source="live",
            ),
            flow_id=None,
        )
    assert result.image is not None
    async with rt.engine.begin() as conn:
        linked = await repository.mark_ready(conn, entry_id, result.image.id, result.generation.id)
    rt.live.forget(cache_key)
    if not linked:
        await images.delete(rt, session, result.image)
        await transactions.commit_early(session, why=DELETED)
        raise NotFound("the live image was deleted meanwhile", code="IMAGE_NOT_FOUND")
    if old is not None:
        await images.delete(rt, session, old)
        await transactions.commit_early(session, why=DELETED)
    rt.live.forget(cache_key)
    fresh = await repository.get_entry(session, cache_key)
    assert fresh is not None
    return fresh


async def update_settings(
    session: AsyncSession, project: Project, changes: dict[str, Any], *, rotate_secret: bool
) -> tuple[LiveSettings, str | None]:
    """Apply the given fields; returns the row and the new signing secret when one was made."""
    row = await repository.get_or_create_settings(session, project.id)
    if "allowed_referrers" in changes:
        given = changes["allowed_referrers"] or []
        domains = [normalize_domain(d) for d in given]
        bad = [raw for raw, d in zip(given, domains, strict=True) if not d or " " in d]
        if bad:
            raise ValidationError(
                f"allowedReferrers must be domain names like example.com (not {bad[0][:100]!r})",
                details={"field": "allowedReferrers"},
            )
        row.allowed_referrers = sorted(set(domains))
    if "ip_rate_limit" in changes:
        value = changes["ip_rate_limit"]
        if value is not None:
            parse_rate(value)
        row.ip_rate_limit = value
    for name in (
        "require_signature",
        "auto_create_scopes",
        "default_allow_new_generations",
        "default_new_generations_limit",
    ):
        if name in changes and (
            changes[name] is not None or name == "default_new_generations_limit"
        ):
            setattr(row, name, changes[name])
    secret = None
    if rotate_secret or (row.require_signature and row.signing_secret is None):
        secret = row.signing_secret = secrets.token_urlsafe(32)
    row.updated_at = utcnow()
    await session.commit()
    return row, secret
