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

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Final

from prometheus_client import Counter, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banatie.observability import context, metrics
from banatie.observability.tracing import Tracing

access = logging.getLogger("banatie.access")

UNMATCHED: Final = "unmatched"
#: Probes answered every few seconds: logged at DEBUG, so they do not drown the real traffic.
PROBES: Final = frozenset({"/health", "/metrics"})
#: The most of a URL an access line keeps (live URLs carry whole prompts).
MAX_TARGET: Final = 300
#: The status recorded for a request cancelled before it was answered (nginx's "client closed
#: request"): the shutdown timeout ran out while it was in flight.
CANCELLED: Final = 499
#: Response headers that tell how a `/cdn` answer was made: a variant's cache (delivery) and a
#: live URL's (hit or miss).
VARIANT_CACHE: Final = b"x-variant-cache"
LIVE_CACHE: Final = b"x-cache-status"
CACHE_HEADERS: Final = frozenset({VARIANT_CACHE, LIVE_CACHE})
#: Paths answered before routing whose route template is remembered (then forgotten at once:
#: a scan of random URLs only costs the matching it would cost anyway).
MAX_MATCHED: Final = 4096
NO_SPAN: Final = contextlib.nullcontext()  # reusable: it holds nothing


class RequestObservability:
    def __init__(
        self,
        app: ASGIApp,
        fast_path_routes: Sequence[BaseRoute] = (),
        tracing: Tracing | None = None,
    ) -> None:
        self.app = app
        # The routes whose requests the fast paths may answer before routing.
        self.fast_path_routes = tuple(fast_path_routes)
        self.tracing = tracing or Tracing()
        # Hits repeat the same few URLs: what matching their path against the fast paths'
        # routes found (the routes never change once the app runs), and the metric series
        # of each label set (`labels()` resolves its child under a lock on every call).
        self._matched: dict[tuple[str, str], str] = {}
        self._series: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._delivery: dict[str, Counter] = {}
        self._live: dict[str, Counter] = {}

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
        cache: dict[bytes, str] = {}
        id_header = (b"x-request-id", info.request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", ())
                for name, value in headers:
                    if name in CACHE_HEADERS:
                        cache[name] = value.decode("latin-1").lower()
                message["headers"] = [*headers, id_header]
            await send(message)

        route: str | None = None
        metrics.HTTP_IN_PROGRESS.inc()
        try:
            with self._span(scope, info) as span:
                try:
                    await self.app(scope, receive, send_with_id)
                except asyncio.CancelledError:
                    status = status or CANCELLED  # the shutdown timeout ended it
                    raise
                except BaseException:
                    if status == 0:  # answered 500 by Starlette's last-resort handler
                        status = 500
                        info.error_code = info.error_code or "INTERNAL_ERROR"
                    raise
                finally:
                    route = self.route_of(scope)  # once: a fast path's answer is matched here
                    if span is not None:
                        _finish_span(span, scope, route, status)
        finally:
            metrics.HTTP_IN_PROGRESS.dec()
            duration = time.perf_counter() - started
            if route is None:
                route = self.route_of(scope)
            self._count(scope["method"], route, status, duration, info, cache)
            self._log(scope, route, info, status, duration)
            context.end(token)

    def _span(self, scope: Scope, info: context.RequestInfo) -> AbstractContextManager[Any]:
        if not self.tracing.enabled:
            return NO_SPAN
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        return self.tracing.server_span(
            scope["method"],
            headers,
            {
                "http.request.method": scope["method"],
                "url.path": scope["path"],
                "banatie.request_id": info.request_id,
            },
        )

    def route_of(self, scope: Scope) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
        key = (scope["method"], scope["path"])
        known = self._matched.get(key)
        if known is not None:
            return known
        found = UNMATCHED
        for candidate in self.fast_path_routes:  # answered by a fast path before routing
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                found = str(getattr(candidate, "path", UNMATCHED))
                break
        if len(self._matched) >= MAX_MATCHED:
            self._matched.clear()
        self._matched[key] = found
        return found

    def _log(
        self, scope: Scope, route: str, info: context.RequestInfo, status: int, duration: float
    ) -> None:
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
        # The record is made here, not by `access.log`: that looks up the calling frame for
        # fields no configured format shows (file, line, function), and checks each `extra`
        # name against the record's own (these never are): together a tenth of a hit.
        record = access.makeRecord(
            access.name, level, __file__, 0, " ".join(words), (), None, "_log"
        )
        record.__dict__.update(
            {
                "method": method,
                "path": target,
                "route": route,
                "status": status,
                "duration_ms": milliseconds,
                "client": client[0] if client else None,
                "project": info.project,
                "error_code": info.error_code,
                "request_id": info.request_id,
            }
        )
        access.handle(record)

    def _count(
        self,
        method: str,
        route: str,
        status: int,
        duration: float,
        info: context.RequestInfo,
        cache: dict[bytes, str],
    ) -> None:
        series = self._series.get((method, route, str(status)))
        if series is None:
            code = str(status)
            series = (
                metrics.HTTP_REQUESTS.labels(method, route, code),
                metrics.HTTP_DURATION.labels(method, route, code),
            )
            self._series[(method, route, code)] = series
        series[0].inc()
        series[1].observe(duration)
        if info.error_code:
            metrics.API_ERRORS.labels(info.error_code).inc()
            if status == 429:
                metrics.QUOTA_REFUSALS.labels(info.error_code).inc()
        live = cache.get(LIVE_CACHE)
        if live is not None:
            _child(self._live, metrics.LIVE_RESPONSES, live).inc()
        variant = cache.get(VARIANT_CACHE)
        if variant is not None:
            _child(self._delivery, metrics.DELIVERY_RESPONSES, variant).inc()
        elif live is None and status in (200, 304) and route.startswith("/cdn/"):
            _child(self._delivery, metrics.DELIVERY_RESPONSES, "original").inc()


def _child(children: dict[str, Counter], counter: Counter, value: str) -> Counter:
    """`counter.labels(value)`, kept in `children` (a header's value: bounded by the app)."""
    child = children.get(value)
    if child is None:
        child = children[value] = counter.labels(value)
    return child


def _finish_span(span: Any, scope: Scope, route: str, status: int) -> None:
    span.update_name(f"{scope['method']} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR))
