"""The cross-replica claim on a cache key: one generation per live image across replicas.

The flight *claims* the cache key in the database: a unique `pending` row, inserted under the
scope's row lock on PostgreSQL, after which the scope's newGenerationsLimit is counted. A
replica that finds a fresh `pending` row polls it until it is `ready` (same image) or `failed`
(same error); a claim whose heartbeat stopped is taken over. Each step is its own short
transaction: a claim must be visible to other replicas while the generation runs.
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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import new_id, utcnow
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
from banatie.live.models import LiveEntry, LiveScope
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


async def _scope(session: AsyncSession, project_id: str, slug: str, budget: Budget) -> LiveScope:
    """The scope, made on first use when the project's policy says so."""
    rules = budget.rules
    scope = await repository.get_scope(session, project_id, slug)
    if scope is not None:
        return scope
    if not rules.auto_create_scopes:
        raise ScopeNotFound(
            f"live scope {slug!r} does not exist and this project does not create scopes on "
            "first use (create it with POST /api/v1/live/scopes)"
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
        raise ScopeNotFound(f"live scope {slug!r} not found")
    return found


async def claim(
    rt: Runtime, ref: ProjectRef, key: str, request: LiveRequest, budget: Budget
) -> CachedImage | Claimed | Busy:
    """The ready image, the claim (ours to generate), or Busy (another replica holds it)."""
    settings = rt.settings
    owner = rt.live.instance
    for _ in range(5):
        async with rt.sessionmaker() as session:
            scope = await _scope(session, ref.id, request.scope, budget)
            await repository.lock_scope(session, scope.id)
            entry = await repository.get_entry(session, key)
            now = utcnow()
            if entry is not None:
                if entry.status == "ready":
                    await session.rollback()
                    ready = await find_ready(rt, key, request.scope)
                    if ready is not None:
                        return ready
                    continue
                stale = now - timedelta(seconds=settings.live_claim_stale_seconds)
                if entry.status == "pending" and entry.heartbeat_at > stale:
                    await session.rollback()
                    return Busy()
                # Failed before (the next request retries) or abandoned by a dead replica.
                if not scope.allow_new_generations:
                    raise ScopeGenerationsDisabled(scope.slug)
                if not await repository.take_over(session, entry, owner, now):
                    await session.rollback()
                    continue
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
                raise ScopeLimitExceeded(slug, live - 1, limit)
            await session.commit()
            return Claimed(entry_id)
    return Busy()


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
            async with rt.engine.begin() as conn:
                await repository.heartbeat(conn, entry_id, rt.live.instance)
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
    async with rt.engine.begin() as conn:
        await repository.release(conn, entry_id, rt.live.instance)


async def fail(rt: Runtime, entry_id: str, status: int, code: str, message: str) -> None:
    """Record the failure for waiters on other replicas (the next request retries)."""
    async with rt.engine.begin() as conn:
        await repository.mark_failed(conn, entry_id, rt.live.instance, status, code, message)


async def link(rt: Runtime, entry_id: str, image_id: str, generation_id: str) -> bool:
    """Point the entry at its new image; False when the entry (its scope) was deleted."""
    async with rt.engine.begin() as conn:
        return await repository.mark_ready(conn, entry_id, image_id, generation_id)
