"""Provider failures, mapped to stable API codes by `banatie.errors`."""

from __future__ import annotations

from banatie.error_base import CodedError


class ProviderError(CodedError, status=502, code="PROVIDER_ERROR"):
    """A provider failed; `code` and `status` are what the API answers, `reason` (when set) goes
    to the error's `details.reason`."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.reason = reason


class ProviderRateLimited(ProviderError, status=503, code="PROVIDER_ERROR"):
    """The provider keeps rate limiting us after our retries: 503 with Retry-After."""


class ProviderTimeout(ProviderError, status=504, code="PROVIDER_TIMEOUT"): ...


class ModelUnavailable(ProviderError, status=503, code="MODEL_UNAVAILABLE"):
    """The configured model is not offered (or no suitable model is): 503, naming what is."""


class UnsupportedByModel(ProviderError, status=400, code="VALIDATION_ERROR"):
    """The request asks for an output the active model does not offer (e.g. after the model
    changed since the request was validated): a 400 like any other validation error."""


class ProviderRequestError(ProviderError, status=500, code="INTERNAL_ERROR"):
    """The provider's client refused a request Banatie built before sending it: our fault."""


class ContentBlocked(ProviderError, status=422, code="CONTENT_BLOCKED"):
    """The prompt or the output was blocked by the provider's safety filters."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason: str = reason
