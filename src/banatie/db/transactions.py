"""Who commits: one unit of work per request (or background job), and the few named exceptions.

- `unit_of_work` is the boundary. A request gets one through `deps.SessionDep` (an MCP tool
  call through `mcp.calls.caller`, a background job by opening its own): it commits when the
  work ends normally and rolls back when it raises. Services and repositories only `flush`.
- `separate_transaction` is work that must stand (or fail) on its own, whatever the unit that
  asks for it does: a key's last use, a claim another replica must see at once, an outbox row
  worked off. Every caller says why. On SQLite, never open one while the unit holds a write
  (the database has one writer: the separate transaction would wait for the unit that waits
  for it).
- `step` (and `commit_early`) commits the unit so far before it ends, for a step whose result
  must be durable before the next one starts: the generation pipeline's reservation (committed
  before the provider is called, so a failure is recorded and a crash is recovered) and its
  result (committed before the old content is dropped). `abandon` rolls the unit back to its
  last commit (a failed step).
- `after_commit` / `after_rollback` queue effects outside the database (waking the purge
  outbox, deleting a blob whose rows were not written) that must wait for the transaction's
  outcome. They run when the unit (or `commit_early` / `abandon`) has committed or rolled back,
  also when code commits the session directly.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

Effect = Callable[[], Awaitable[None]]

_ON_COMMIT = "banatie.on_commit"
_ON_ROLLBACK = "banatie.on_rollback"
_DUE = "banatie.due"


class TrackedSession(Session):
    """The sessions `make_sessionmaker` makes: they keep the effects queued on them until the
    transaction's outcome is known (see the listeners below)."""


def _settle(info: dict[Any, Any], *, committed: bool) -> None:
    """The transaction ended: its effects for that outcome are due, the others dropped."""
    kept, dropped = (_ON_COMMIT, _ON_ROLLBACK) if committed else (_ON_ROLLBACK, _ON_COMMIT)
    info.setdefault(_DUE, []).extend(info.pop(kept, []))
    info.pop(dropped, None)


# The listeners see commits and rollbacks made on the session directly, too.
@event.listens_for(TrackedSession, "after_commit")
def _committed(session: Session) -> None:
    _settle(session.info, committed=True)


@event.listens_for(TrackedSession, "after_soft_rollback")
def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.parent is None:  # the outermost transaction
        _settle(session.info, committed=False)


def _queue(session: AsyncSession, name: str, effect: Effect) -> None:
    if not isinstance(session.sync_session, TrackedSession):
        raise TypeError("effects need a session from banatie.db.engine.make_sessionmaker")
    session.info.setdefault(name, []).append(effect)


def after_commit(session: AsyncSession, effect: Effect) -> None:
    """Run `effect` once the session's current transaction has committed (never if it rolls
    back)."""
    _queue(session, _ON_COMMIT, effect)


def after_rollback(session: AsyncSession, effect: Effect) -> None:
    """Run `effect` if the session's current transaction rolls back (its commit failing too)."""
    _queue(session, _ON_ROLLBACK, effect)


async def _run_due(session: AsyncSession, *, committed: bool) -> None:
    """The effects whose transaction has ended (`committed` or not; a session that had not
    begun one yet fires no event). An effect that fails is logged, not raised: the outcome
    stands, and each effect has its own retry (outbox, `banatie gc`)."""
    _settle(session.info, committed=committed)
    due: list[Effect] = session.info.pop(_DUE, [])
    for effect in due:
        try:
            await effect()
        except Exception:
            log.warning("an effect after a transaction failed", exc_info=True)


@contextlib.asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose work commits when the block ends normally and rolls back when it raises
    (a failed commit rolls back too, and raises)."""
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            with contextlib.suppress(Exception):  # the database may be what failed
                await session.rollback()
            await _run_due(session, committed=False)
            raise
        await _run_due(session, committed=True)


def separate_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], *, why: str
) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
    """A transaction of its own, committed when the block ends normally, whatever the caller's
    unit of work does afterwards. `why` names the reason at the call site (and in the log)."""
    log.debug("separate transaction: %s", why)
    return unit_of_work(sessionmaker)


async def commit_early(session: AsyncSession, *, why: str) -> None:
    """Commit the unit of work so far: what follows may fail or take long, and this much must be
    durable first (`why` says what). The unit goes on in a new transaction."""
    log.debug("commit early: %s", why)
    await session.commit()
    await _run_due(session, committed=True)


async def abandon(session: AsyncSession) -> None:
    """Roll the unit of work back to its last commit (a step that failed)."""
    await session.rollback()
    await _run_due(session, committed=False)


@contextlib.asynccontextmanager
async def step(session: AsyncSession, *, why: str) -> AsyncIterator[None]:
    """A step of the unit of work that must be durable before the next: committed early when
    the block ends normally (see `commit_early`), abandoned when it raises."""
    try:
        yield
        await commit_early(session, why=why)
    except BaseException:
        with contextlib.suppress(Exception):  # the database may be what failed
            await abandon(session)
        raise


async def flush_unique(session: AsyncSession, conflict: Exception) -> None:
    """Flush; a constraint the flush breaks (a unique name taken by a concurrent request) is
    raised as `conflict`, and the caller's unit of work rolls back."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise conflict from exc
