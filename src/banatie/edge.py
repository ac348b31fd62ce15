"""The edge of the app: plain ASGI in front of everything else (routing, auth, the fast paths).

* :class:`BodyLimit` bounds every request body before anything parses it or looks at its key:
  a declared ``Content-Length`` over the limit is refused at once, a streamed (chunked) body
  the moment it passes it. 413 ``PAYLOAD_TOO_LARGE``.
* :class:`ResponseHeaders` puts ``X-Content-Type-Options: nosniff`` on every response; on
  ``/cdn`` (stored bytes anyone could have uploaded) also a ``Content-Security-Policy`` that
  runs nothing, and CORS for any origin (a CDN caches one answer for every page), preflights
  included.
* :class:`ApiCors` is Starlette's CORS for the API, limited to ``BANATIE_CORS_ORIGINS``.
* :class:`UrlGuard` refuses a NUL (``%00``) in the path or the query: no identifier or text
  of ours may hold one, and PostgreSQL cannot store it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banatie.errors import error_body

CDN_PREFIX: Final = "/cdn/"
#: What `/cdn` answers may do in a browser that opens them as a document: nothing.
CDN_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
CDN_EXPOSED: Final = (
    "ETag, Last-Modified, X-Cache-Status, X-Image-Id, X-Generation-Id, X-Scope, X-Variant-Cache,"
    " X-Request-ID"
)
NOSNIFF: Final = ((b"x-content-type-options", b"nosniff"),)
#: What :class:`ResponseHeaders` adds to every `/cdn` answer.
CDN_HEADERS: Final = (
    *NOSNIFF,
    (b"content-security-policy", CDN_CSP.encode()),
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", CDN_EXPOSED.encode()),
    (b"cross-origin-resource-policy", b"cross-origin"),
)
API_EXPOSED: Final = (
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "X-Request-ID",
    "Idempotent-Replayed",
)


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    details: dict[str, Any] | None = None,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """The API's error envelope, sent as plain ASGI messages."""
    data = json.dumps(error_body(message, code, details), separators=(",", ":")).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for bodies over `default` bytes (`larger` raises it for some paths, e.g. uploads).

    A body that grows past the limit while the app reads it ends the app's work: whatever the
    app answers to the interrupted read is dropped and the 413 is sent instead.
    """

    def __init__(self, app: ASGIApp, default: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        has_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                has_body = True
                declared = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                has_body = True
        if not has_body or declared == 0:
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.default)
        if declared is not None and declared > limit:
            await self._refuse(send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to the interrupted read: replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        await send_error(
            send,
            413,
            f"the request body is larger than {limit} bytes, the most this route accepts",
            "PAYLOAD_TOO_LARGE",
            {"limit": limit},
            # The rest of the body is never read: the connection cannot be reused.
            headers=[(b"connection", b"close")],
        )


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cdn = scope["path"].startswith(CDN_PREFIX)
        if cdn and scope["method"] == "OPTIONS":
            await self._cdn_options(scope, send)
            return
        extra = CDN_HEADERS if cdn else NOSNIFF

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)

    @staticmethod
    async def _cdn_options(scope: Scope, send: Send) -> None:
        """`/cdn` is readable from any origin: every preflight is answered yes (GET, HEAD)."""
        requested = Headers(scope=scope).get("access-control-request-headers")
        headers = [
            (b"allow", b"GET, HEAD, OPTIONS"),
            (b"access-control-allow-origin", b"*"),
            (b"access-control-allow-methods", b"GET, HEAD"),
            (b"access-control-max-age", b"86400"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-security-policy", CDN_CSP.encode()),
            (b"content-length", b"0"),
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested.encode("latin-1")))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


class ApiCors(CORSMiddleware):
    """Starlette's CORS for everything but `/cdn` (answered by :class:`ResponseHeaders`); a
    refused preflight says why in the API's envelope."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=origins,
            allow_methods=("GET", "HEAD", "POST", "PUT", "DELETE"),
            allow_headers=(
                "X-API-Key",
                "Authorization",
                "Content-Type",
                "If-None-Match",
                "X-Request-ID",
                "Idempotency-Key",
            ),
            expose_headers=API_EXPOSED,
            max_age=3600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CDN_PREFIX):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        reason = bytes(response.body).decode()
        headers = {k: v for k, v in response.headers.items() if k.lower().startswith("access-")}
        body = error_body(
            f"{reason} (the API answers the origins in BANATIE_CORS_ORIGINS)", "CORS_NOT_ALLOWED"
        )
        return Response(
            json.dumps(body),
            status_code=403,
            media_type="application/json",
            headers={**headers, "Cache-Control": "no-store"},
        )


class UrlGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope["query_string"]
            if "\x00" in scope["path"]:
                await send_error(send, 400, "the URL path contains a NUL (%00)", "VALIDATION_ERROR")
                return
            if b"%00" in query or b"\x00" in query:
                names = [
                    name or "(empty name)"
                    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                    if "\x00" in name or "\x00" in value
                ]
                await send_error(
                    send,
                    400,
                    f"{', '.join(names) or 'the query'} must not contain a NUL (%00)",
                    "VALIDATION_ERROR",
                    {"param": names[0]} if names else None,
                )
                return
        await self.app(scope, receive, send)
