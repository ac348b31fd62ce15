"""When to send a request again, and after how long."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from banatie_sdk._calls import Call


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delay-seconds or an HTTP date); None when absent or bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: about 0.5 s, 1 s, 2 s … at most 8 s."""
    return float(min(8.0, 0.5 * 2**attempt) * random.uniform(0.75, 1.0))


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
        code = body["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def delay_for_response(
    response: httpx.Response, attempt: int, max_retries: int, max_retry_delay: float
) -> float | None:
    """Seconds to wait before sending again, or None to give the answer to the caller.

    A rate limit (429 ``RATE_LIMIT_EXCEEDED``) and a busy server or model (503) are retried;
    a used-up allowance (429 ``QUOTA_EXCEEDED``) is not: it lasts until the month ends. A
    ``Retry-After`` longer than ``max_retry_delay`` is not waited for either.
    """
    if attempt >= max_retries:
        return None
    if response.status_code == 429:
        if _code(response) != "RATE_LIMIT_EXCEEDED":
            return None
    elif response.status_code != 503:
        return None
    after = parse_retry_after(response.headers.get("Retry-After"))
    if after is None:
        return backoff(attempt)
    return after if after <= max_retry_delay else None


def delay_for_error(
    call: Call[Any], error: httpx.TransportError, attempt: int, max_retries: int
) -> float | None:
    """A broken connection is retried when sending twice is harmless: the request never
    reached the server (connect errors), or the call is idempotent."""
    if attempt >= max_retries:
        return None
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout) or call.idempotent:
        return backoff(attempt)
    return None
