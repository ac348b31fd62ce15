"""The cross-replica claim on a cache key: one generation per live image across replicas.

The flight *claims* the cache key in the database: a unique `pending` row, inserted under the
scope's row lock on PostgreSQL, after which the scope's newGenerationsLimit is counted. A
replica that finds a fresh `pending` row polls it until it is `ready` (same image) or `failed`
(same error); a claim whose heartbeat stopped is taken over. Each step is its own short
transaction (`separate_transaction`): a claim must be visible to other replicas while the
generation runs. Only making the entry ready joins the unit of work that made its image.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import new_id, utcnow
from banatie.db.transactions import flush_unique, separate_transaction
from banatie.generation.request import image_fields
from banatie.live import repository
from banatie.live.cache_key import LiveRequest
from banatie.live.errors import (
    GenerationFailed,
    ScopeGenerationsDisabled,
    ScopeLimitExceeded,
    ScopeNotFound,
    WaitTimeout,
)
from banatie.live.lookup import find_ready
from banatie.live.models import LiveEntry
from banatie.live.policy import Budget
from banatie.live.state import CachedImage, ProjectRef
from banatie.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    entry_id: str


@dataclass(frozen=True)
class Busy:
    """Another replica holds a fresh claim (or the claim could not be settled): wait."""


# Why a claim is a transaction of its own: other replicas must see it at once.
CLAIM = "a live cache key's claim is seen by every replica at once"


class _Retry(Exception):
    """This attempt lost a race with another replica (its transaction rolled back): again."""


class _NoScope(Exception):
    """The scope does not exist yet: made on first use (in a transaction of its own)."""


@dataclass(frozen=True)
class _Ready:
    """The entry is ready: read its image once the claim's transaction has ended."""


async def _create_scope(rt: Runtime, project_id: str, slug: str, budget: Budget) -> None:
    """Make the scope on first use when the project's policy says so (or another request
    just made it)."""
    rules = budget.rules
    if not rules.auto_create_scopes:
        raise ScopeNotFound(
            f"live scope {slug!r} does not exist and this project does not create scopes on "
            "first use (create it with POST /api/v1/live/scopes)"
        )
    await budget.charge()
    async with separate_transaction(rt.sessionmaker, why="a live scope made on first use") as s:
        await repository.insert_scope(
            s,
            project_id,
            slug,
            allow_new_generations=rules.default_allow_new_generations,
            new_generations_limit=rules.default_new_generations_limit,
            meta={},
        )


async def claim(
    rt: Runtime, ref: ProjectRef, key: str, request: LiveRequest, budget: Budget
) -> CachedImage | Claimed | Busy:
    """The ready image, the claim (ours to generate), or Busy (another replica holds it)."""
    for _ in range(5):
        try:
            async with separate_transaction(rt.sessionmaker, why=CLAIM) as session:
                found = await _attempt(rt, session, ref, key, request)
        except _NoScope:
            await _create_scope(rt, ref.id, request.scope, budget)
            continue
        except _Retry:
            continue
        if not isinstance(found, _Ready):
            return found
        ready = await find_ready(rt, key, request.scope)
        if ready is not None:
            return ready
    return Busy()


async def _attempt(
    rt: Runtime, session: AsyncSession, ref: ProjectRef, key: str, request: LiveRequest
) -> _Ready | Claimed | Busy:
    scope = await repository.get_scope(session, ref.id, request.scope)
    if scope is None:
        raise _NoScope()
    await repository.lock_scope(session, scope.id)
    entry = await repository.get_entry(session, key)
    now = utcnow()
    owner = rt.live.instance
    if entry is not None:
        if entry.status == "ready":
            return _Ready()
        stale = now - timedelta(seconds=rt.settings.live_claim_stale_seconds)
        if entry.status == "pending" and entry.heartbeat_at > stale:
            return Busy()
        # Failed before (the next request retries) or abandoned by a dead replica.
        if not scope.allow_new_generations:
            raise ScopeGenerationsDisabled(scope.slug)
        if not await repository.take_over(session, entry, owner, now):
            raise _Retry()
        entry_id = entry.id
    else:
        if not scope.allow_new_generations:
            raise ScopeGenerationsDisabled(scope.slug)
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
        # Another replica claimed it a moment ago: try again.
        await flush_unique(session, _Retry())
    # Counted after our row is in, under the scope lock (PostgreSQL) or the database's write
    # lock (SQLite): concurrent claims can never overshoot the limit.
    live = await repository.count_live(session, scope.id)
    if live > scope.new_generations_limit:
        raise ScopeLimitExceeded(scope.slug, live - 1, scope.new_generations_limit)
    return Claimed(entry_id)


async def wait(rt: Runtime, key: str, scope: str, deadline: float) -> CachedImage | None:
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
    raise WaitTimeout("another server is still generating this image; retry in a moment")


async def _heartbeat(rt: Runtime, entry_id: str) -> None:
    interval = max(0.05, rt.settings.live_claim_stale_seconds / 3)
    while True:
        await asyncio.sleep(interval)
        try:
            async with separate_transaction(rt.sessionmaker, why=CLAIM) as session:
                await repository.heartbeat(session, entry_id, rt.live.instance)
        except Exception:  # a missed beat only risks a takeover; keep generating
            log.warning("live claim heartbeat failed for %s", entry_id, exc_info=True)


@contextlib.asynccontextmanager
async def held(rt: Runtime, entry_id: str) -> AsyncIterator[None]:
    """Keep the claim's heartbeat going while the block runs (others would take it over)."""
    task = asyncio.create_task(_heartbeat(rt, entry_id))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


async def release(rt: Runtime, entry_id: str) -> None:
    """Give the claim back (nothing was generated): waiters elsewhere decide for themselves."""
    async with separate_transaction(rt.sessionmaker, why=CLAIM) as session:
        await repository.release(session, entry_id, rt.live.instance)


async def fail(rt: Runtime, entry_id: str, status: int, code: str, message: str) -> None:
    """Record the failure for waiters on other replicas (the next request retries)."""
    async with separate_transaction(rt.sessionmaker, why=CLAIM) as session:
        owner = rt.live.instance
        await repository.mark_failed(session, entry_id, owner, status, code, message)


async def link(session: AsyncSession, entry_id: str, image_id: str, generation_id: str) -> bool:
    """Point the entry at its new image, in the unit of work that made it; False when the
    entry (its scope, or its image) was deleted meanwhile."""
    return await repository.mark_ready(session, entry_id, image_id, generation_id)
