"""The request being served, as the code under it sees it: its id (from `X-Request-ID` when the
client sent a sane one, else made here) and what the access line and the metrics report about
it (the project, the error code of a refusal).

One mutable :class:`RequestInfo` per request, in a context variable set by the edge
middleware: code deeper down (auth, the error envelope) fills in its fields, and the
middleware reads them once the response is sent, whichever task or copy of the context the
work ran in.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Final

#: What a request id from a client may look like: ids of the common tracing and proxy tools
#: (UUIDs, hex, base64, `trace-span` pairs) pass; anything that could forge a log line or grow
#: it without bound (spaces, quotes, newlines, 200 characters) is replaced by one of ours.
SANE_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
HEADER: Final = "X-Request-ID"
#: Where the id is kept in the ASGI scope, for handlers that run outside the middleware
#: (Starlette's last-resort 500 handler).
SCOPE_KEY: Final = "banatie.request"


@dataclass
class RequestInfo:
    request_id: str
    # `org/project` of the key that called, once auth has run (or of a `/cdn` URL).
    project: str | None = None
    # The stable code of the error envelope the request was answered with, if any.
    error_code: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("banatie_request", default=None)


def accept_or_make(sent: str | None) -> str:
    """The client's request id when it is sane, else a new one (32 hex digits)."""
    if sent is not None and SANE_REQUEST_ID.fullmatch(sent):
        return sent
    return secrets.token_hex(16)  # a UUID4's randomness, without making a UUID object


def current() -> RequestInfo | None:
    return _current.get()


def request_id() -> str | None:
    info = _current.get()
    return info.request_id if info is not None else None


def begin(info: RequestInfo) -> Token[RequestInfo | None]:
    """Make `info` the current request; returns the token `end` takes."""
    return _current.set(info)


def end(token: Token[RequestInfo | None]) -> None:
    _current.reset(token)


def note_project(organization: str, project: str | None) -> None:
    info = _current.get()
    if info is not None:
        info.project = f"{organization}/{project}" if project else organization


def note_error(code: str) -> None:
    info = _current.get()
    if info is not None:
        info.error_code = code
