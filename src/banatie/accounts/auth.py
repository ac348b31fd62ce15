"""Who is calling: the API key from `X-API-Key` or `Authorization: Bearer`."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from banatie.accounts import keys as key_material
from banatie.accounts import repository
from banatie.accounts.models import ApiKey, Organization, Project
from banatie.db.base import iso_z, utcnow
from banatie.db.transactions import separate_transaction
from banatie.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    key: ApiKey
    organization: Organization
    project: Project | None

    @property
    def is_master(self) -> bool:
        return self.key.type == "master"


class LastUsedTracker:
    """Remembers key use in memory and writes `lastUsedAt` at most once a minute per key."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], interval_seconds: float = 60.0
    ) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval_seconds
        self._written: dict[str, float] = {}

    def due(self, key_id: str) -> bool:
        now = time.monotonic()
        last = self._written.get(key_id)
        if last is not None and now - last < self.interval:
            return False
        self._written[key_id] = now
        return True

    async def record(self, key: ApiKey, at: datetime) -> None:
        if not self.due(key.id):
            return
        # Recorded whatever becomes of the request (a refused one used the key too), and at
        # once: the request's own unit would hold the key row (or SQLite's write lock) for as
        # long as the request runs.
        async with separate_transaction(self.sessionmaker, why="a key's last use") as session:
            await repository.touch_keys(session, {key.id: at})
        # As loaded, not as a change: the request's unit must not write the row again.
        set_committed_value(key, "last_used_at", at)


def read_key(request: Request) -> str | None:
    return key_from_headers(request.headers)


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The key of `X-API-Key`, else of `Authorization: Bearer` (names case-insensitive, as in
    Starlette's `Headers`; a plain dict must hold lower-case names)."""
    value = headers.get("x-api-key")
    if value:
        return value.strip()
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate(
    session: AsyncSession, secret: str | None, tracker: LastUsedTracker
) -> Principal:
    if not secret:
        raise Unauthorized("missing API key: send it as X-API-Key or Authorization: Bearer")
    if not secret.startswith(key_material.KEY_PREFIX):
        raise Unauthorized(f"invalid API key: Banatie keys start with {key_material.KEY_PREFIX}")
    if not key_material.looks_like_key(secret):
        raise Unauthorized("invalid API key")
    digest = key_material.hash_key(secret)
    record = await repository.get_key_by_hash(session, digest)
    # The lookup is by hash; the constant-time compare guards against any index side channel.
    if record is None or not hmac.compare_digest(record.key_hash, digest):
        raise Unauthorized("invalid API key")
    now = utcnow()
    if record.revoked_at is not None:
        raise Unauthorized(
            f"API key revoked at {iso_z(record.revoked_at)}", details={"reason": "revoked"}
        )
    if record.expires_at is not None and record.expires_at <= now:
        raise Unauthorized(
            f"API key expired at {iso_z(record.expires_at)}", details={"reason": "expired"}
        )
    await tracker.record(record, now)
    return Principal(key=record, organization=record.organization, project=record.project)


def require_master(principal: Principal) -> Principal:
    if not principal.is_master:
        raise Forbidden("this route needs a master key")
    return principal
