"""Provider failures, mapped to stable API codes by `banatie.errors`."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider failed; `code` and `status` are what the API answers, `reason` (when set) goes
    to the error's `details.reason`."""

    code = "PROVIDER_ERROR"
    status = 502

    def __init__(
        self, message: str, *, retry_after: float | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.reason = reason


class ProviderRateLimited(ProviderError):
    """The provider keeps rate limiting us after our retries: 503 with Retry-After."""

    code = "PROVIDER_ERROR"
    status = 503


class ProviderTimeout(ProviderError):
    code = "PROVIDER_TIMEOUT"
    status = 504


class ModelUnavailable(ProviderError):
    """The configured model is not offered (or no suitable model is): 503, naming what is."""

    code = "MODEL_UNAVAILABLE"
    status = 503


class UnsupportedByModel(ProviderError):
    """The request asks for an output the active model does not offer (e.g. after the model
    changed since the request was validated): a 400 like any other validation error."""

    code = "VALIDATION_ERROR"
    status = 400


class ProviderRequestError(ProviderError):
    """The provider's client refused a request Banatie built before sending it: our fault."""

    code = "INTERNAL_ERROR"
    status = 500


class ContentBlocked(ProviderError):
    """The prompt or the output was blocked by the provider's safety filters."""

    code = "CONTENT_BLOCKED"
    status = 422

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason: str = reason
