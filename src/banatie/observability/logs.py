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
#: Secret-shaped text, wherever it appears in a line (a message, an exception, a URL).
_PATTERNS: Final = (
    # Banatie keys: `bnt_` + URL-safe base64; the 12-character display prefix may stay.
    (re.compile(r"(bnt_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+"), r"\1" + REDACTED),
    # Google API keys (Gemini).
    (re.compile(r"AIza[0-9A-Za-z_-]{20,}"), REDACTED),
    # Header values, as logged by HTTP clients or in a repr of headers.
    (_HEADER_PATTERN, r"\1" + REDACTED),
    # Signatures and keys in query strings (`sig` of signed URLs, `key` of Google's REST URLs).
    (
        re.compile(
            r"(?i)([?&](?:sig|signature|key|api_key|apikey|token|access_token"
            r"|secret_access_key|session_token)=)[^&\s\"']+"
        ),
        r"\1" + REDACTED,
    ),
)
#: What a line must contain for each pattern above to match it, and whether that is looked
#: for in its lower case (the pattern ignores case): a Banatie key's start, a Google key's,
#: a secret header's name, the end of a secret query name (`api_key=`, `access_token=`, ...).
_NEEDS: Final = (
    (("bnt_",), False),
    (("AIza",), False),
    (_SECRET_HEADERS, True),
    (("sig=", "signature=", "key=", "token="), True),
)
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
        # Searching a pattern costs 1-30 µs a line (the header pattern the most), together a
        # tenth of a cached hit's CPU, and most lines hold none of the text a pattern needs:
        # a pattern is searched only in a line that has it (_NEEDS). The case-insensitive ones
        # are skipped only in an ASCII line: they also take non-ASCII letters (the Kelvin sign
        # for "k", dotted and dotless "i").
        lowered = text.lower() if text.isascii() else None
        for (pattern, replacement), (needs, folded) in zip(_PATTERNS, _NEEDS, strict=True):
            haystack = lowered if folded else text
            if haystack is not None and not any(part in haystack for part in needs):
                continue
            text = pattern.sub(replacement, text)
        return text


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
