"""Doing each piece of work once while it is wanted by many (delivery's variant renders,
live URLs' generations).

Concurrent calls for one key share one execution (per process and event loop). The work runs
in its own task, so a caller that goes away (a client hanging up) does not cancel it for the
others waiting on it; the key is free again as soon as the work has finished, so an error is
not remembered: the next call runs the work again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Task[object]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``(result, led)``: ``led`` is False when the result came from another caller's run."""
        task = self._flights.get(key)
        led = task is None
        if task is None:

            async def call() -> object:
                return await work()

            task = asyncio.get_running_loop().create_task(call())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        result = cast(T, await asyncio.shield(task))
        return result, led

    def _done(self, key: str, task: asyncio.Task[object]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter has seen (or will see) it

    async def close(self) -> None:
        """Cancel the work still running (shutting down) and wait until it has stopped."""
        tasks = list(self._flights.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._flights.clear()
