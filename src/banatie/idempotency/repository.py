"""SQL of idempotency keys: each call is its own short transaction on the engine, apart from
the request's unit of work (the key must be taken before the request runs and kept whatever
the request's transaction does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from banatie.db.base import new_id
from banatie.idempotency.models import IdempotencyKey

K = IdempotencyKey
#: How long an answer is kept for retries.
KEEP: Final = timedelta(hours=24)


@dataclass(frozen=True)
class Taken:
    """The key is ours: run the request, then `finish` or `release` the row."""

    row_id: str


@dataclass(frozen=True)
class InUse:
    """Another request with this key is running now."""


@dataclass(frozen=True)
class Reused:
    """The key was used for a different request."""


@dataclass(frozen=True)
class Answered:
    status: int
    headers: dict[str, str]
    body: bytes


Claim = Taken | InUse | Reused | Answered


async def claim(
    engine: AsyncEngine,
    owner: str,
    key: str,
    fingerprint: str,
    *,
    now: datetime,
    keep: timedelta,
    abandoned_after: timedelta,
) -> Claim:
    """Take `key` for a request, or say why not. A finished answer older than `keep`, or a
    running one older than `abandoned_after` (its process died), is taken over."""
    for _ in range(3):  # a row deleted or taken over between our insert and our read: again
        row_id = new_id()
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    insert(K).values(
                        id=row_id,
                        owner=owner,
                        key=key,
                        fingerprint=fingerprint,
                        status="running",
                        created_at=now,
                        locked_at=now,
                    )
                )
            return Taken(row_id)
        except IntegrityError:
            pass
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    select(
                        K.id,
                        K.fingerprint,
                        K.status,
                        K.response_status,
                        K.response_headers,
                        K.response_body,
                        K.created_at,
                        K.locked_at,
                    ).where(K.owner == owner, K.key == key)
                )
            ).one_or_none()
            if row is None:
                continue
            expired = row.created_at < now - keep
            abandoned = row.status == "running" and row.locked_at < now - abandoned_after
            if expired or abandoned:
                # Conditional on what we read: of two takers, one wins.
                result = await conn.execute(
                    update(K)
                    .where(K.id == row.id, K.locked_at == row.locked_at)
                    .values(
                        fingerprint=fingerprint,
                        status="running",
                        response_status=None,
                        response_headers=None,
                        response_body=None,
                        created_at=now,
                        locked_at=now,
                    )
                )
                if getattr(result, "rowcount", 0) == 1:
                    return Taken(row.id)
                continue
            if row.fingerprint != fingerprint:
                return Reused()
            if row.status == "running":
                return InUse()
            headers: dict[str, Any] = row.response_headers or {}
            return Answered(row.response_status or 200, dict(headers), row.response_body or b"")
    return InUse()


async def finish(
    engine: AsyncEngine, row_id: str, status: int, headers: dict[str, str], body: bytes
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(K)
            .where(K.id == row_id)
            .values(
                status="done", response_status=status, response_headers=headers, response_body=body
            )
        )


async def release(engine: AsyncEngine, row_id: str) -> None:
    """Give the key back: the request made no answer worth repeating (a retry runs again)."""
    async with engine.begin() as conn:
        await conn.execute(delete(K).where(K.id == row_id))


async def forget_expired(session: AsyncSession, cutoff: datetime) -> None:
    """Drop the answers kept past their day (each worker beat; the index keeps it cheap)."""
    await session.execute(delete(K).where(K.created_at < cutoff, K.status == "done"))
