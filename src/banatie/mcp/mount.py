"""`/mcp` on the app, with the MCP SDK loaded by the first request to it.

The SDK (with its server, transport and schema packages) costs every worker process ~0.3-0.9 s
of start and ~27 MB of memory; a worker that serves images and the REST API never needs it.
The first `/mcp` request of a process imports it (in a thread, the event loop keeps serving),
builds the server and starts its transport in a task of its own, which the app's shutdown
stops; that request waits for it, the next ones go straight to the transport.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from types import ModuleType

    from banatie.runtime import Runtime

MCP_PATH = "/mcp"


class McpOnFirstUse:
    """The `/mcp` endpoint; `running()` is entered in the app's lifespan."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._endpoint: ASGIApp | None = None
        self._starting: asyncio.Lock | None = None
        self._stop: asyncio.Event | None = None
        self._transport: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoint or await self._start()
        await endpoint(scope, receive, send)

    async def _start(self) -> ASGIApp:
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._endpoint is None:
                server = await asyncio.to_thread(importlib.import_module, "banatie.mcp.server")
                ready: asyncio.Future[ASGIApp] = asyncio.get_running_loop().create_future()
                self._stop = asyncio.Event()
                self._transport = asyncio.create_task(self._serve(server, ready, self._stop))
                self._endpoint = await ready
        return self._endpoint

    async def _serve(
        self, server: ModuleType, ready: asyncio.Future[ASGIApp], stop: asyncio.Event
    ) -> None:
        try:
            endpoint, transport = server.serve(self.rt)
            async with transport:
                ready.set_result(endpoint)
                await stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the app runs; at its end, the transport (if started) stops."""
        try:
            yield
        finally:
            if self._stop is not None and self._transport is not None:
                self._stop.set()
                await self._transport
