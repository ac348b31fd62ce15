"""Per-project request rate limits with `limits`: in memory by default, Redis when
BANATIE_REDIS_URL is set so that replicas share one budget. Headers follow both the common
X-RateLimit-* convention and the IETF draft (draft-ietf-httpapi-ratelimit-headers-07)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from banatie.errors import ApiError, ValidationError


class RateLimitExceeded(ApiError):
    status = 429
    code = "RATE_LIMIT_EXCEEDED"


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
    def __init__(self, redis_url: str | None = None) -> None:
        if redis_url:
            url = redis_url.replace("redis://", "async+redis://", 1)
            storage: Storage = storage_from_string(url, implementation="redispy")  # type: ignore[assignment]
        else:
            storage = storage_from_string("async+memory://")  # type: ignore[assignment]
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.backend = "redis" if redis_url else "memory"

    async def hit(self, rate: str, scope: str, key: str) -> RateLimitState:
        """Count one request; raise RateLimitExceeded (429, Retry-After) past the limit."""
        item = parse_rate(rate)
        allowed = await self.strategy.hit(item, scope, key)
        stats = await self.strategy.get_window_stats(item, scope, key)
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
