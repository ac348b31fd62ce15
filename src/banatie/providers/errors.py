"""Provider failures, mapped to stable API codes by `banatie.errors`."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failed; `code` and `status` are what the API answers."""

    code = "PROVIDER_ERROR"
    status = 502

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class ProviderRateLimited(ProviderError):
    """The provider keeps rate limiting us after our retries: 503 with Retry-After."""

    code = "PROVIDER_ERROR"
    status = 503


class ProviderTimeout(ProviderError):
    code = "PROVIDER_TIMEOUT"
    status = 504


class ContentBlocked(ProviderError):
    """The prompt or the output was blocked by the provider's safety filters."""

    code = "CONTENT_BLOCKED"
    status = 422

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
