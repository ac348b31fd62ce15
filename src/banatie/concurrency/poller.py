"""A background worker that passes over a table of pending work (an outbox) every few seconds,
and sooner when told new rows were committed: the CDN purge outbox, the webhook dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import ClassVar


class Poller(ABC):
    """Runs `drain_once` in one task (`start`/`stop`, from the app's lifespan), every
    `poll_seconds`, and `settle_seconds` after `wake()`. A failed pass is logged and retried at
    the next poll: a database hiccup must not kill the worker."""

    #: The task's name, and what the log calls the worker.
    task_name: ClassVar[str]
    what: ClassVar[str]
    log: ClassVar[logging.Logger]

    _wake: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = None

    @property
    @abstractmethod
    def poll_seconds(self) -> float: ...

    @property
    def settle_seconds(self) -> float:
        """How long after `wake()` the pass waits (rows other processes must see settle)."""
        return 0.0

    @abstractmethod
    async def drain_once(self) -> int:
        """One pass over the due rows; how many were done."""

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Pass over the rows now rather than at the next poll (after a commit that added some)."""
        if self._wake is not None:
            self._wake.set()

    async def on_commit(self) -> None:
        """`wake`, as an effect for `db.transactions.after_commit`."""
        self.wake()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("%s: pass failed; retrying at the next poll", self.what)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            if self._wake.is_set():  # new rows: do them as soon as they have settled
                self._wake.clear()
                await asyncio.sleep(self.settle_seconds)
