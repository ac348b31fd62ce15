"""PostgreSQL advisory locks that serialise one-off steps across replicas starting at once.

Each lock is transaction-scoped (`pg_advisory_xact_lock`): it is released by the commit or
rollback of the transaction that took it, so a crashed process never leaves it behind. On SQLite
(one host, one writer at a time) there is nothing to take.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncSession

MIGRATIONS = "banatie:migrations"
FIRST_RUN = "banatie:first-run"

_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name (what pg_advisory_xact_lock takes)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hold(connection: Connection, name: str) -> None:
    """Wait for the lock `name` and keep it until the connection's transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"key": lock_key(name)})


async def hold_async(session: AsyncSession, name: str) -> None:
    """`hold` for an async session: kept until the session's transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_LOCK, {"key": lock_key(name)})
