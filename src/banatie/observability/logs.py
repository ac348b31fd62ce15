"""Logging for `banatie serve`: one handler on stderr for Banatie's, granian's and every
library's records, human-readable by default, one JSON object a line with
`BANATIE_LOG_FORMAT=json`. Every line of a request carries its id; secrets never reach the
output (API keys, `Authorization` and `X-API-Key` values, URL signatures, the Gemini, signing,
Cloudflare and metrics secrets), whatever logged them.

The configuration is a `logging.config.dictConfig` dictionary so that granian applies it in
each of its worker processes too (`banatie serve --workers N`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, Final, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from banatie.observability import context

REDACTED: Final = "[REDACTED]"

#: Headers whose values are secrets.
_SECRET_HEADERS: Final = (
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
    "webhook-signature",
)
_HEADER_PATTERN: Final = re.compile(
    r"(?i)((?:" + "|".join(map(re.escape, _SECRET_HEADERS)) + ")"
    r"""(?:['"]?\s*[:=]|['"]\s*,)\s*['"]?)(?:bearer\s+|basic\s+)?[^\s'";}]+"""
)


def _keep_first(match: re.Match[str]) -> str:
    """The first group, then REDACTED: what the template `\\1[REDACTED]` makes, without re's
    template machinery (a third of a substitution's time, on every signed URL's line)."""
    return match[1] + REDACTED


#: Secret-shaped text, wherever it appears in a line (a message, an exception, a URL).
# Banatie keys: `bnt_` + URL-safe base64; the 12-character display prefix may stay.
_BANATIE_KEY: Final = re.compile(r"(bnt_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+")
# Google API keys (Gemini).
_GOOGLE_KEY: Final = re.compile(r"AIza[0-9A-Za-z_-]{20,}")
# Signatures and keys in query strings (`sig` of signed URLs, `key` of Google's REST URLs).
_QUERY_NAMES: Final = (
    "sig",
    "signature",
    "key",
    "api_key",
    "apikey",
    "token",
    "access_token",
    "secret_access_key",
    "session_token",
)
_QUERY_SECRET: Final = re.compile(r"(?i)([?&](?:" + "|".join(_QUERY_NAMES) + r")=)[^&\s\"']+")
#: How every `name=` of a query secret ends: a line without one of these has no query secret.
_QUERY_ENDS: Final = ("sig=", "signature=", "key=", "token=")
#: The most a query secret's match starts before the end of its name: `&` + the longest name.
_QUERY_LEAD: Final = 1 + max(map(len, _QUERY_NAMES)) + 1
#: Secrets shorter than this are not searched for literally (they would match ordinary text).
_MIN_LITERAL: Final = 8


class Scrubber:
    """Removes secrets from a formatted line: the shapes above, and the configured secrets'
    literal values (a signing key has no shape of its own)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        literals = sorted({s for s in secrets if s and len(s) >= _MIN_LITERAL}, key=len)
        self._literals = [re.escape(s) for s in reversed(literals)]
        self._literal = re.compile("|".join(self._literals)) if self._literals else None

    def __call__(self, text: str) -> str:
        if self._literal is not None:
            text = self._literal.sub(REDACTED, text)
        # A regex search of a whole line costs 5-30 µs (together half of what an access
        # line costs, a sixth of a cached hit), an `in` test well under one: each pattern
        # is searched only in a line holding the text it needs, and the query pattern only
        # from just before the first name it could match. The case-insensitive patterns
        # are narrowed so only in an ASCII line: they also take non-ASCII letters (the
        # Kelvin sign for "k", dotted and dotless "i").
        if "bnt_" in text:
            text = _BANATIE_KEY.sub(_keep_first, text)
        if "AIza" in text:
            text = _GOOGLE_KEY.sub(REDACTED, text)
        if not text.isascii():
            text = _HEADER_PATTERN.sub(_keep_first, text)
            return _QUERY_SECRET.sub(_keep_first, text)
        lowered = text.lower()
        # Every secret header's name holds one of these (plain tests: a generator over the
        # names costs as much as the rest of this check).
        if (
            "authorization" in lowered
            or "api-key" in lowered
            or "cookie" in lowered
            or "webhook-signature" in lowered
        ):
            text = _HEADER_PATTERN.sub(_keep_first, text)
            lowered = text.lower()
        first = -1
        for end in _QUERY_ENDS:
            at = lowered.find(end)
            if at >= 0 and (first < 0 or at < first):
                first = at
        if first < 0:
            return text
        # No match starts earlier (each holds one of the ends): the same matches as in the
        # whole line.
        start = max(0, first - _QUERY_LEAD)
        return text[:start] + _QUERY_SECRET.sub(_keep_first, text[start:])


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None) on every record, as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = context.request_id()
        return True


class TextFormatter(logging.Formatter):
    """`2026-12-01 13:40:02 INFO banatie.access: GET /api/v1/… 201 84 ms [req 3f2a…]`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
        self.scrub = Scrubber(secrets)
        # The time is shown to the second (datefmt): made once a second, not for every line.
        self._second: tuple[int, str | None, str] = (-1, None, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is None:  # with milliseconds
            return super().formatTime(record, datefmt)
        second, shown_as, shown = self._second
        if second != int(record.created) or shown_as != datefmt:
            shown = super().formatTime(record, datefmt)
            self._second = (int(record.created), datefmt, shown)
        return shown

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            first, sep, rest = line.partition("\n")  # after the message, before a traceback
            line = f"{first} [req {request_id}]{sep}{rest}"
        return self.scrub(line)


class JsonLinesFormatter(JsonFormatter):
    """One JSON object a line: `time`, `level`, `logger`, `message`, `process` (the pid: which
    worker of `serve --workers N`), `request_id`, the fields
    the record carries (an access line's `method`, `route`, `status`, `duration_ms`, …) and
    `exc_info` as text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__(
            ["levelname", "name", "message", "process"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            # uvicorn's coloured copy of its message.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
        self.scrub = Scrubber(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.scrub(super().format(record))


LogFormat = Literal["text", "json"]


def make_formatter(
    log_format: LogFormat = "text", secrets: Iterable[str | None] = ()
) -> logging.Formatter:
    if log_format == "json":
        return JsonLinesFormatter(secrets)
    return TextFormatter(secrets)


def logging_config(
    log_format: LogFormat, level: str = "INFO", secrets: Iterable[str | None] = ()
) -> dict[str, Any]:
    """The dictConfig of a server process: Banatie's loggers at `level`, granian's at INFO,
    everything else at WARNING, all through one scrubbing handler on stderr."""
    handler = {"handlers": ["default"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {
            "default": {
                "()": f"{__name__}.make_formatter",
                "log_format": log_format,
                "secrets": list(s for s in secrets if s),
            }
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "banatie": {**handler, "level": level.upper()},
            # granian's own lines (its Rust side logs as `_granian` too).
            "_granian": {**handler, "level": "INFO"},
            # Replaced by banatie.access (route template, duration, request id, no secrets).
            "granian.access": {**handler, "level": "WARNING"},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
