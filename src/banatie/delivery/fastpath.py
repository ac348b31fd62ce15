"""`/cdn/{org}/{project}/img/{ref}` as plain ASGI, in front of the FastAPI router.

Image delivery is the hottest path of the server (every page view behind a CDN miss, every
variant hit): it skips routing, dependency injection and the exception middleware, builds a
:class:`DeliveryRequest` straight from the ASGI scope and sends the reply in two messages. The
logic is :func:`banatie.delivery.service.deliver`, the same the FastAPI route calls; errors are
rendered in the API's envelope with ``Cache-Control: no-store``, as the app's handlers do.

A URL answered from the store before is answered again from memory while its image row is the
cached one (:mod:`banatie.delivery.warm`): a plain `GET` of the same text then costs one dict
lookup and the row cache's check, as a warm live URL does.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from banatie.delivery import service
from banatie.delivery.repository import ImageRow
from banatie.delivery.warm import WarmKey, WarmReplies, WarmReply
from banatie.errors import ApiError, error_body, outage
from banatie.runtime import Runtime

log = logging.getLogger(__name__)


def _path_parts(scope: Scope) -> tuple[str, str, str] | None:
    """(org, project, ref) of `/cdn/{org}/{project}/img/{ref}`, or None for any other path."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    parts = path.split("?", 1)[0].split("/")
    if len(parts) != 6 or parts[1] != "cdn" or parts[4] != "img":
        return None
    org, project, ref = (unquote(p) for p in (parts[2], parts[3], parts[5]))
    if not org or not project or not ref:
        return None
    return org, project, ref


class DeliveryFastPath:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.warm = WarmReplies(runtime.settings.delivery_memory_cache_mb * 1024 * 1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            # What _path_parts needs, decoded: any other URL (a live one, say) goes on to its
            # own fast path untouched.
            if path.startswith("/cdn/") and "/img/" in path:
                if scope["method"] == "GET" and await self._warm_hit(scope, send):
                    return
                parts = _path_parts(scope)
                if parts is not None:
                    await self._serve(scope, send, *parts)
                    return
        await self.app(scope, receive, send)

    def _warm_key(self, scope: Scope) -> WarmKey | None:
        """The URL's text and Accept, or None when the request is conditional (the full path
        answers those: a 304 depends on the client's validators)."""
        accept = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
            elif name in (b"if-none-match", b"if-modified-since"):
                return None
        path: bytes = scope.get("raw_path") or scope["path"].encode("latin-1")
        return path, scope["query_string"], accept

    async def _warm_hit(self, scope: Scope, send: Send) -> bool:
        if not self.warm.max_bytes:
            return False
        key = self._warm_key(scope)
        if key is None:
            return False
        reply = self.warm.get(key)
        if reply is None:
            return False
        current = self.runtime.delivery.rows.get(reply.org, reply.project, reply.ref)
        if current is not reply.row:  # changed, or a second old: ask again
            self.warm.discard(key)
            return False
        await send({"type": "http.response.start", "status": 200, "headers": reply.headers})
        await send({"type": "http.response.body", "body": reply.body})
        return True

    async def _serve(self, scope: Scope, send: Send, org: str, project: str, ref: str) -> None:
        headers = {}
        for name, value in scope["headers"]:
            key = name.decode("latin-1").lower()
            if key in service.REQUEST_HEADERS:
                headers[key] = value.decode("latin-1")
        request = service.DeliveryRequest(
            method=scope["method"],
            org=org,
            project=project,
            ref=ref,
            query=parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True),
            headers=headers,
        )
        try:
            reply = await service.deliver(self.runtime, request)
        except Exception as exc:
            error = exc if isinstance(exc, ApiError) else outage(exc)
            if error is None:
                log.exception("unhandled error delivering %s", scope["path"])
                error = ApiError("internal error", code="INTERNAL_ERROR", status=500)
            envelope = error_body(error.message, error.code, error.details)
            await self._error(send, error.status, envelope, error.headers)
            return
        out = reply.headers
        if reply.status == 200:
            if reply.media_type is not None:
                out["Content-Type"] = reply.media_type
            out.setdefault("Content-Length", str(len(reply.body)))
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.items()]
        await send({"type": "http.response.start", "status": reply.status, "headers": raw})
        body = b"" if scope["method"] == "HEAD" else reply.body
        await send({"type": "http.response.body", "body": body})
        if reply.warm is not None and scope["method"] == "GET" and self.warm.max_bytes:
            self._remember(scope, org, project, ref, reply.warm, raw, body)

    def _remember(
        self,
        scope: Scope,
        org: str,
        project: str,
        ref: str,
        row: ImageRow,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        key = self._warm_key(scope)
        # Only while the row it was made from is the cached one (not with the row cache off).
        if key is not None and self.runtime.delivery.rows.get(org, project, ref) is row:
            self.warm.put(key, WarmReply(row, org, project, ref, headers, body))

    @staticmethod
    async def _error(
        send: Send, status: int, body: dict[str, object], headers: dict[str, str]
    ) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(data)).encode()),
                    (b"cache-control", b"no-store"),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": data})
