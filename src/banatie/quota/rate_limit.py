"""Per-project request rate limits with `limits`: in memory by default, Redis when
BANATIE_REDIS_URL is set so that replicas share one budget. Headers follow both the common
X-RateLimit-* convention and the IETF draft (draft-ietf-httpapi-ratelimit-headers-07)."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from banatie.errors import RETRY_AFTER_OUTAGE, ValidationError
from banatie.quota.errors import RateLimiterUnavailable, RateLimitExceeded

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
            "RateLimit": (
                f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_seconds}"
            ),
            "RateLimit-Policy": f"{self.limit};w={self.window_seconds}",
        }


def parse_rate(value: str) -> RateLimitItem:
    try:
        return parse(value)
    except ValueError as exc:
        raise ValidationError(f"rate limit {value!r} is not like '10/minute'") from exc


class RateLimiter:
    """`on_error` (BANATIE_RATE_LIMIT_ON_ERROR): what a request meets while Redis is down:
    "closed" refuses it (503 RATE_LIMITER_UNAVAILABLE), "open" lets it through uncounted."""

    def __init__(
        self, redis_url: str | None = None, on_error: Literal["closed", "open"] = "closed"
    ) -> None:
        if redis_url:
            url = redis_url.replace("redis://", "async+redis://", 1)
            storage: Storage = storage_from_string(  # type: ignore[assignment]
                url,
                implementation="redispy",
                wrap_exceptions=True,
                # Redis gone is known within seconds, not after the OS gives up.
                socket_connect_timeout=2,
                socket_timeout=2,
            )
        else:
            storage = storage_from_string("async+memory://")  # type: ignore[assignment]
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.backend = "redis" if redis_url else "memory"
        self.on_error = on_error

    async def hit(self, rate: str, scope: str, key: str, *, cost: int = 1) -> RateLimitState | None:
        """Count one request (`cost`: as many; all or nothing); raise RateLimitExceeded (429,
        Retry-After) past the limit. None: the limiter is unreachable and fails open (nothing
        counted)."""
        item = parse_rate(rate)
        if cost > item.amount:
            raise RateLimitExceeded(
                f"{cost} {scope} at once never fit the rate limit of {rate}; send at most "
                f"{item.amount}",
                details={"limit": scope, "rate": rate, "requested": cost},
            )
        try:
            allowed = await self.strategy.hit(item, scope, key, cost=cost)
            stats = await self.strategy.get_window_stats(item, scope, key)
        except StorageError as exc:
            if self.on_error == "open":
                log.warning("rate limiter unreachable; letting %s through uncounted", scope)
                return None
            raise RateLimiterUnavailable(
                "the rate limiter is unreachable, so no request can be counted; retry shortly",
                headers={"Retry-After": RETRY_AFTER_OUTAGE},
            ) from exc
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        state = RateLimitState(
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_seconds=reset,
            window_seconds=int(item.get_expiry()),
        )
        if not allowed:
            raise RateLimitExceeded(
                f"rate limit of {rate} for {scope} exceeded; retry in {max(1, reset)} s",
                details={"limit": scope, "rate": rate, "retryAfterSeconds": max(1, reset)},
                headers={**state.headers(), "Retry-After": str(max(1, reset))},
            )
        return state

    async def reset(self) -> None:
        await self.storage.reset()
