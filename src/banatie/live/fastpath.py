"""The warm hit path of live URLs as plain ASGI, in front of the FastAPI router.

A live URL whose cache key is in this process's LRU (and that asks for the original bytes) is
answered here: parse the query, hash the normalised request, one dict lookup, one blob read,
two ASGI messages. No routing, no dependency injection, no database. Everything else (a cold
cache, a miss, a transformation, an error) falls through to the full route in
`banatie.live.router`, which fills the LRU; both paths build the same key and the same headers.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Final
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from banatie.delivery.conditional import etag_matches
from banatie.delivery.outbox import image_tag
from banatie.errors import ApiError
from banatie.live.cache_key import parse_live_request
from banatie.live.signing import LIVE_PARAMS, SIGNED
from banatie.live.state import CachedImage
from banatie.runtime import Runtime
from banatie.storage.base import BlobNotFound

# Names that make the request a variant (handled by the full route, through delivery).
TRANSFORM: Final = SIGNED - LIVE_PARAMS - {"exp"}


def cache_headers(rt: Runtime, image: CachedImage, cache: str) -> dict[str, str]:
    """The headers every successful live response carries (both paths)."""
    return {
        "Cache-Control": f"public, max-age={rt.settings.live_cache_seconds}",
        "X-Cache-Status": cache,
        "X-Scope": image.scope,
        "X-Image-Id": image.image_id,
        "X-Generation-Id": image.generation_id or "",
        "Cache-Tag": image_tag(image.image_id),
    }


async def read_original(rt: Runtime, image: CachedImage) -> bytes:
    """The original's bytes: from the memory tier when hot, else one blob read."""
    data = rt.live.bodies.get(image.storage_key)
    if data is None:
        data = await rt.blobs.get(image.storage_key)
        rt.live.bodies.put(image.storage_key, data)
    return data


class LiveHitFastPath:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            path: str = scope["path"]
            if path.startswith("/cdn/") and "/live/" in path and await self._hit(scope, send):
                return
        await self.app(scope, receive, send)

    def _cached(self, scope: Scope) -> CachedImage | None:
        path: str = scope["path"]
        raw_query: bytes = scope["query_string"]
        rt = self.runtime
        # A live URL is requested again and again as written: remember what its text means.
        url_keys = rt.live.url_keys
        known = url_keys.get((path, raw_query))
        if known is not None:
            project_key, cache_key = known
            ref = rt.live.projects.get(project_key)
            if ref is None or ref.id != cache_key[0]:
                return None
            return rt.live.hits.get(cache_key[1])
        parts = path.split("/")
        if len(parts) != 6 or parts[4] != "live":
            return None
        ref = rt.live.projects.get((parts[2], parts[3]))
        if ref is None:
            return None
        pairs = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)
        if any(name.lower() in TRANSFORM for name, _ in pairs):
            return None
        try:
            # A hit serves an image that exists: what the model offers is for misses to check.
            request = parse_live_request(
                parts[5],
                dict(pairs),
                capabilities=None,
                max_prompt_chars=rt.settings.max_prompt_chars,
            )
        except ApiError:
            return None
        key = request.cache_key(ref.id)
        if len(url_keys) >= max(1, rt.settings.live_lru_size):
            url_keys.clear()
        url_keys[(path, raw_query)] = ((parts[2], parts[3]), (ref.id, key))
        return rt.live.hits.get(key)

    def _headers(self, image: CachedImage) -> list[tuple[bytes, bytes]]:
        """The hit headers of `image` without Content-Type/Length, made once per image."""
        memo = self.runtime.live.hit_headers
        prepared = memo.get(image.cache_key)
        if prepared is not None and prepared[0] is image:  # not a stale entry: the same image
            return prepared[1]
        headers = cache_headers(self.runtime, image, "HIT")
        headers["ETag"] = f'"{image.file_hash}"'
        headers["Last-Modified"] = format_datetime(image.created_at, usegmt=True)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if len(memo) >= max(1, self.runtime.settings.live_lru_size):
            memo.clear()
        memo[image.cache_key] = (image, raw)
        return raw

    async def _hit(self, scope: Scope, send: Send) -> bool:
        image = self._cached(scope)
        if image is None:
            return False
        headers = self._headers(image)
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        if etag_matches(if_none_match, f'"{image.file_hash}"'):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True
        if scope["method"] == "HEAD":
            body, length = b"", image.size_bytes
        else:
            try:
                body = await read_original(self.runtime, image)
            except BlobNotFound:
                self.runtime.live.forget(image.cache_key)
                return False  # deleted or regenerated meanwhile: the full route looks again
            length = len(body)
        content = [
            (b"content-type", image.mime_type.encode("latin-1")),
            (b"content-length", str(length).encode("latin-1")),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers + content})
        await send({"type": "http.response.body", "body": body})
        return True
