"""The quota feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import ApiError, NotFound


class QuotaExceeded(ApiError, status=429, code="QUOTA_EXCEEDED"):
    """The plan's monthly allowance (or its storage) is used up."""


class RateLimitExceeded(ApiError, status=429, code="RATE_LIMIT_EXCEEDED"): ...


class RateLimiterUnavailable(ApiError, status=503, code="RATE_LIMITER_UNAVAILABLE"): ...


class PlanNotFound(NotFound, code="PLAN_NOT_FOUND"): ...
