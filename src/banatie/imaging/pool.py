"""CPU-bound image work (libvips) runs here: a bounded thread pool, never the event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")

_workers = 2
# One limiter per event loop: tests and the CLI may run several loops in one process.
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def configure(workers: int) -> None:
    global _workers
    _workers = max(1, workers)
    _limiters.clear()


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(_workers)
    return limiter


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    def call() -> T:
        return fn(*args, **kwargs)

    return await anyio.to_thread.run_sync(call, limiter=_limiter())
