"""The outermost ASGI layer: gives every HTTP request its id (`X-Request-ID`, echoed in the
response), times it, and once it is answered writes its access line and its metrics. It sits
outside the fast paths and the edge, so their answers (a `/cdn` hit, a 413) are counted and
logged like any other.

The route is the template the router matched (`/api/v1/generations/{generation_id}`), never
the path: labels and log fields stay few whatever the URLs. Requests the fast paths answer
before routing are matched against the routes they stand in for; anything no route matches is
`unmatched`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Final

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banatie.observability import context

access = logging.getLogger("banatie.access")

UNMATCHED: Final = "unmatched"
#: Probes answered every few seconds: logged at DEBUG, so they do not drown the real traffic.
PROBES: Final = frozenset({"/health", "/metrics"})
#: The most of a URL an access line keeps (live URLs carry whole prompts).
MAX_TARGET: Final = 300


class RequestObservability:
    def __init__(self, app: ASGIApp, fast_path_routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        # The routes whose requests the fast paths may answer before routing.
        self.fast_path_routes = tuple(fast_path_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                sent_id = value.decode("latin-1")
                break
        info = context.RequestInfo(context.accept_or_make(sent_id))
        scope[context.SCOPE_KEY] = info
        token = context.begin(info)
        started = time.perf_counter()
        status = 0
        id_header = (b"x-request-id", info.request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            if status == 0:  # answered 500 by Starlette's last-resort handler, outside us
                status = 500
                info.error_code = info.error_code or "INTERNAL_ERROR"
            raise
        finally:
            duration = time.perf_counter() - started
            self._log(scope, info, status, duration)
            context.end(token)

    def route_of(self, scope: Scope) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
        for candidate in self.fast_path_routes:  # answered by a fast path before routing
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                return str(getattr(candidate, "path", UNMATCHED))
        return UNMATCHED

    def _log(self, scope: Scope, info: context.RequestInfo, status: int, duration: float) -> None:
        path: str = scope["path"]
        level = logging.DEBUG if path in PROBES else logging.INFO
        if not access.isEnabledFor(level):
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{path}?{query}" if query else path
        if len(target) > MAX_TARGET:
            target = target[: MAX_TARGET - 1] + "…"
        method: str = scope["method"]
        milliseconds = round(duration * 1000, 1)
        client = scope.get("client")
        words = [method, target, str(status), f"{milliseconds:g} ms"]
        if info.error_code:
            words.append(info.error_code)
        if info.project:
            words.append(f"project={info.project}")
        access.log(
            level,
            " ".join(words),
            extra={
                "method": method,
                "path": target,
                "route": self.route_of(scope),
                "status": status,
                "duration_ms": milliseconds,
                "client": client[0] if client else None,
                "project": info.project,
                "error_code": info.error_code,
                "request_id": info.request_id,
            },
        )
