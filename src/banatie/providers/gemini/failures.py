"""Gemini's failures, read: which are worth another attempt, the wait the server asks for
(`RetryInfo`), the transport and timeout errors of whichever HTTP backend the SDK uses, and the
`ProviderError` a caller finally sees (the table in `banatie.providers.gemini.client`)."""

from __future__ import annotations

import importlib
import json
import math
import re
import traceback
from typing import Any

from google.genai import errors as genai_errors

from banatie.providers.errors import ProviderError, ProviderRateLimited

RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
# HTTP statuses worth another attempt besides 5xx.
RETRYABLE_STATUSES = frozenset({408, 429})


def _exception_types(modules: tuple[str, ...], name: str) -> tuple[type[BaseException], ...]:
    """`name` from each of `modules` that is importable (the SDK's optional HTTP backends)."""
    found: list[type[BaseException]] = []
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,  # asyncio's, and aiohttp's ServerTimeoutError (also a ClientError)
    *_exception_types(("httpx", "httpx2"), "TimeoutException"),
)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    *_exception_types(("httpx", "httpx2"), "TransportError"),
    *_exception_types(("aiohttp",), "ClientError"),
    *_exception_types(("google.auth.exceptions",), "TransportError"),
)


class ModelNotFound(ProviderError):
    """Gemini answered 404 for the model: it was retired or renamed since it was resolved."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")


def parse_duration(value: Any) -> float | None:
    """A google.protobuf.Duration in JSON ("7s", "0.5s", "1.000340s") or {seconds, nanos}."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, dict):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def retry_delay(exc: genai_errors.APIError) -> float | None:
    """The `retryDelay` of the error body's google.rpc.RetryInfo detail, in seconds."""
    body = exc.details
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return None
    error = body.get("error", body)
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO_TYPE:
            delay = parse_duration(detail.get("retryDelay"))
            if delay is not None and math.isfinite(delay) and delay >= 0:
                return delay
    return None


def is_retryable(exc: genai_errors.APIError) -> bool:
    code = exc.code if isinstance(exc.code, int) else 0
    return code in RETRYABLE_STATUSES or 500 <= code < 600


def describe(exc: genai_errors.APIError) -> str:
    status = f" {exc.status}" if exc.status else ""
    message = f": {exc.message}" if exc.message else ""
    return f"{exc.code}{status}{message}"


def exhausted(
    exc: genai_errors.APIError, operation: str, failure: str, attempts: int, next_delay: float
) -> ProviderError:
    if exc.code == 429:
        retry_after = retry_delay(exc)
        return ProviderRateLimited(
            f"Gemini is rate limiting the {operation} requests ({failure}); "
            f"gave up after {attempts} attempt(s)",
            retry_after=retry_after if retry_after is not None else round(next_delay, 3),
        )
    return ProviderError(
        f"Gemini {operation} request failed after {attempts} attempt(s) ({failure})"
    )


def raised_reading_the_answer(exc: BaseException) -> bool:
    """Whether the SDK raised this while decoding Gemini's answer (a malformed response) rather
    than while building the request (e.g. `contents are required.`)."""
    if isinstance(exc, json.JSONDecodeError | genai_errors.UnknownApiResponseError):
        return True
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        name = frame.f_code.co_name
        if name == "_from_response" or name.endswith(("_from_mldev", "_from_vertex")):
            return True
    return False


def short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text[:200]}"
