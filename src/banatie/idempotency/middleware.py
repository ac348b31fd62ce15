"""`Idempotency-Key: <any 1-255 characters>` on a POST to the API (`/api/…`, `/openai/…`), as
Stripe and the IETF draft define it: the first request with a key runs; a retry with the same
key and the same request gets the first answer again (`Idempotent-Replayed: true`) — nothing
is generated or charged twice; while the first still runs a retry gets 409
`IDEMPOTENCY_KEY_IN_USE`; the same key with a different request is 422
`IDEMPOTENCY_KEY_REUSED`. Keys belong to the API key that sent them and are kept for a day.

Answers worth repeating are kept: successes and refusals of the request itself (4xx). Those
that say "try again" (409 conflicts, 429 limits, 5xx) are not: the key is given back and a
retry runs anew. Plain ASGI, inside the body limit: the body it reads (to tell one request
from another) is already bounded.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Final

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banatie.accounts.auth import key_from_headers
from banatie.accounts.keys import hash_key
from banatie.db.base import utcnow
from banatie.edge import send_error
from banatie.idempotency import repository
from banatie.openai_compat.errors import openai_error
from banatie.runtime import Runtime

log = logging.getLogger(__name__)

PREFIXES: Final = ("/api/", "/openai/")
#: A key still `running` this long after it was taken belongs to a request whose process died.
ABANDONED_AFTER: Final = timedelta(minutes=10)
#: Answers larger than this are not kept (the API's JSON answers are far smaller).
MAX_KEPT_BODY: Final = 1024 * 1024
NOT_KEPT: Final = frozenset({409, 429})
KEPT_HEADERS: Final = ("content-type", "location")
REPLAYED: Final = (b"idempotent-replayed", b"true")
#: Bodies up to this size are hashed on the event loop; larger ones (uploads) in a thread.
HASH_INLINE_BYTES: Final = 64 * 1024


def _fingerprint(scope: Scope, body: bytes) -> str:
    """What tells one request from another: SHA-256 of method, path, query and body."""
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope["query_string"]):
        digest.update(part + b"\0")
    digest.update(body)
    return digest.hexdigest()


def _sane(key: str) -> bool:
    return 0 < len(key) <= 255 and key.isprintable() and key.isascii()


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    message: str,
    code: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """A refusal in the shape of the API the request is for: OpenAI's under `/openai/` (its
    clients read `error.type`), Banatie's envelope elsewhere."""
    if scope["path"].startswith("/openai/"):
        await openai_error(status, message, code, param=param, headers=headers)(
            scope, receive, send
        )
        return
    raw = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()
    ]
    await send_error(send, status, message, code, {"param": param} if param else None, raw)


class IdempotentPosts:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].startswith(PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        secret = key_from_headers(headers)
        if key is None or secret is None:  # no key, or no caller to keep it for (a 401)
            await self.app(scope, receive, send)
            return
        if not _sane(key):
            await _refuse(
                scope,
                receive,
                send,
                400,
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
                "VALIDATION_ERROR",
                param="Idempotency-Key",
            )
            return
        body = await _read_body(receive)
        if len(body) > HASH_INLINE_BYTES:  # an upload's megabytes: hash them off the event loop
            fingerprint = await anyio.to_thread.run_sync(_fingerprint, scope, body)
        else:
            fingerprint = _fingerprint(scope, body)
        engine = self.runtime.engine
        claim = await repository.claim(
            engine,
            hash_key(secret),
            key,
            fingerprint,
            now=utcnow(),
            keep=repository.KEEP,
            abandoned_after=ABANDONED_AFTER,
        )
        if isinstance(claim, repository.InUse):
            await _refuse(
                scope,
                receive,
                send,
                409,
                "a request with this Idempotency-Key is still running; retry when it is done",
                "IDEMPOTENCY_KEY_IN_USE",
                headers={"retry-after": "1"},
            )
            return
        if isinstance(claim, repository.Reused):
            await _refuse(
                scope,
                receive,
                send,
                422,
                "this Idempotency-Key was used for a different request (method, URL or body); "
                "use a new key for a new request",
                "IDEMPOTENCY_KEY_REUSED",
            )
            return
        if isinstance(claim, repository.Answered):
            raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in claim.headers.items()]
            raw += [(b"content-length", str(len(claim.body)).encode()), REPLAYED]
            await send({"type": "http.response.start", "status": claim.status, "headers": raw})
            await send({"type": "http.response.body", "body": claim.body})
            return
        await self._run(scope, body, receive, send, claim.row_id)

    async def _run(self, scope: Scope, body: bytes, rest: Receive, send: Send, row_id: str) -> None:
        replayed = False

        async def receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await rest()  # a disconnect, after the body

        status = 0
        kept: dict[str, str] = {}
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    text = name.decode("latin-1").lower()
                    if text in KEPT_HEADERS:
                        kept[text] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_KEPT_BODY:
                    chunks.append(chunk)
            await send(message)

        engine = self.runtime.engine
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await _quietly_release(engine, row_id)
            raise
        if status >= 500 or status in NOT_KEPT or status == 0 or size > MAX_KEPT_BODY:
            await _quietly_release(engine, row_id)
            return
        try:
            await repository.finish(engine, row_id, status, kept, b"".join(chunks))
        except Exception:  # the answer was sent; a retry then runs again (as without a key)
            log.warning(
                "could not keep the answer of Idempotency-Key row %s", row_id, exc_info=True
            )
            await _quietly_release(engine, row_id)


async def _quietly_release(engine: AsyncEngine, row_id: str) -> None:
    try:
        await repository.release(engine, row_id)
    except Exception:  # left running: taken over after ABANDONED_AFTER
        log.warning("could not give back Idempotency-Key row %s", row_id, exc_info=True)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
