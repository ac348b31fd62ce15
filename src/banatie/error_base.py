"""The base of every error that has a stable code: `banatie.errors.ApiError` (what a service
refuses) and `banatie.providers.errors.ProviderError` (what a provider failed at).

An error is declared once, in its feature's `errors.py`, by naming what it answers in the
class line:

    class ImageNotFound(NotFound, code="IMAGE_NOT_FOUND"): ...

    class QuotaExceeded(ApiError, status=429, code="QUOTA_EXCEEDED"):
        \"\"\"The plan's monthly allowance (or its storage) is used up.\"\"\"

A subclass keeps what it does not name (`ImageNotFound` is a 404 because `NotFound` is). An
error that always says the same words sets `default_message` and is raised without any."""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    status: int = 500
    code: str = "INTERNAL_ERROR"
    default_message: str | None = None

    def __init_subclass__(
        cls, *, code: str | None = None, status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(self, message: str | None = None) -> None:
        message = self.default_message if message is None else message
        if message is None:
            raise TypeError(f"{type(self).__name__} needs a message")
        super().__init__(message)
        self.message = message
