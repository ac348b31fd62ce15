"""Exceptions: one class per error code of the API, all under :class:`BanatieError`.

The server answers ``{"success": false, "error": {"message", "code", "details"}}``; the class is
chosen by ``code`` first (stable across versions), then by HTTP status for codes this SDK does
not know yet, so a new server-side code still lands in the right family.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AliasConflictError",
    "AuthenticationError",
    "BanatieError",
    "ConflictError",
    "ContentBlockedError",
    "InternalServerError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "ServiceUnavailableError",
    "ValidationError",
    "error_for",
]


class BanatieError(Exception):
    """Base of every error this SDK raises.

    ``code`` is the API's stable error code (``"IMAGE_NOT_FOUND"``, ``"RATE_LIMIT_EXCEEDED"`` …),
    ``status`` the HTTP status (``None`` when no response arrived), ``details`` the error's
    ``details`` object, ``retry_after`` the seconds the server asked to wait, if it did.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "ERROR",
        status: int | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f"{self.status} " if self.status is not None else ""
        return f"{where}{self.code}: {self.message}"


class ValidationError(BanatieError):
    """400: a field is missing or wrong (the message names it)."""


class AuthenticationError(BanatieError):
    """401: the key is missing, invalid, revoked or expired."""


class PermissionDeniedError(BanatieError):
    """403: the key may not do this (a master key on a project route, a refused live URL …)."""


class NotFoundError(BanatieError):
    """404: no such resource in the key's project (``code`` names which: ``IMAGE_NOT_FOUND`` …)."""


class ConflictError(BanatieError):
    """409: the request conflicts with the current state."""


class AliasConflictError(ConflictError):
    """409 ``ALIAS_CONFLICT``."""


class PayloadTooLargeError(BanatieError):
    """413: the body or file is over the server's limit."""


class ContentBlockedError(BanatieError):
    """422 ``CONTENT_BLOCKED``: the model refused the prompt (``details["reason"]``)."""


class RateLimitError(BanatieError):
    """429 ``RATE_LIMIT_EXCEEDED`` (after the SDK's retries): ``retry_after`` says when."""


class QuotaExceededError(BanatieError):
    """429 ``QUOTA_EXCEEDED``: the monthly allowance or storage is used up (never retried)."""


class ProviderError(BanatieError):
    """502/503/504 from the image model (``PROVIDER_ERROR``, ``MODEL_UNAVAILABLE`` …)."""


class ServiceUnavailableError(BanatieError):
    """503 from the server itself, not the model: its database, image store or rate limiter is
    down (``DATABASE_UNAVAILABLE``, ``STORAGE_UNAVAILABLE``, ``STORAGE_ERROR``,
    ``RATE_LIMITER_UNAVAILABLE``) or it is shutting down (``UNAVAILABLE``). Retried like any 503;
    ``retry_after`` says when to try again."""


class InternalServerError(BanatieError):
    """500 and other server errors."""


class APIConnectionError(BanatieError):
    """No answer: the server could not be reached or the connection broke."""


class APITimeoutError(APIConnectionError):
    """No answer within the client's timeout."""


_BY_CODE: dict[str, type[BanatieError]] = {
    "VALIDATION_ERROR": ValidationError,
    "UNAUTHORIZED": AuthenticationError,
    "FORBIDDEN": PermissionDeniedError,
    "ALIAS_CONFLICT": AliasConflictError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "CONTENT_BLOCKED": ContentBlockedError,
    "RATE_LIMIT_EXCEEDED": RateLimitError,
    "SCOPE_LIMIT_EXCEEDED": RateLimitError,
    "QUOTA_EXCEEDED": QuotaExceededError,
    "PROVIDER_ERROR": ProviderError,
    "PROVIDER_TIMEOUT": ProviderError,
    "MODEL_UNAVAILABLE": ProviderError,
    "DATABASE_UNAVAILABLE": ServiceUnavailableError,
    "STORAGE_UNAVAILABLE": ServiceUnavailableError,
    "STORAGE_ERROR": ServiceUnavailableError,
    "RATE_LIMITER_UNAVAILABLE": ServiceUnavailableError,
    "UNAVAILABLE": ServiceUnavailableError,
    "INTERNAL_ERROR": InternalServerError,
}

_BY_STATUS: dict[int, type[BanatieError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ContentBlockedError,
    429: RateLimitError,
    502: ProviderError,
    503: ProviderError,  # a 503 code this SDK does not know yet: the model's, most likely
    504: ProviderError,
}


def error_for(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    retry_after: float | None = None,
) -> BanatieError:
    """The exception for an error answer."""
    cls = _BY_CODE.get(code)
    if cls is None and code.endswith("_NOT_FOUND"):
        cls = NotFoundError
    if cls is None:
        cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else BanatieError)
    return cls(message, code=code, status=status, details=details, retry_after=retry_after)
