"""CPU-bound image work (libvips) runs here: a bounded thread pool, never the event loop.

One :class:`CpuPool` per runtime (``Runtime.cpu``), sized by ``BANATIE_CPU_WORKERS``; the
embedded providers are given the same pool, so synthesis, analysis and delivery renders share
one bound on the threads doing pixel work.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_WORKERS = 2


class CpuPool:
    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        self.workers = max(1, workers)
        # One limiter per event loop: tests and the CLI may run several loops in one process.
        self._limiters: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.workers)
        return limiter

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        def call() -> T:
            return fn(*args, **kwargs)

        return await anyio.to_thread.run_sync(call, limiter=self._limiter())
