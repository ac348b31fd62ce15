"""API errors with stable codes, and the handlers that render them in the v1 envelope."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_errors
from starlette.exceptions import HTTPException as StarletteHTTPException

from banatie.error_base import CodedError
from banatie.observability import context
from banatie.providers.errors import ProviderError
from banatie.storage.base import StorageUnavailable

log = logging.getLogger(__name__)

# Seconds a client is asked to wait while a dependency (database, Redis, S3) is down.
RETRY_AFTER_OUTAGE = "5"


class ApiError(CodedError, status=400, code="VALIDATION_ERROR"):
    """A request refused with a stable code (declared as `banatie.error_base` says). An instance
    may still name its own `code` and `status` (an error replayed from elsewhere); a class with
    `retry_after` sends that `Retry-After`."""

    retry_after: str | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = dict(headers or {})
        if self.retry_after is not None:
            self.headers.setdefault("Retry-After", self.retry_after)


class ValidationError(ApiError, status=400, code="VALIDATION_ERROR"): ...


class Unauthorized(ApiError, status=401, code="UNAUTHORIZED"): ...


class Forbidden(ApiError, status=403, code="FORBIDDEN"): ...


class NotFound(ApiError, status=404, code="NOT_FOUND"):
    """A 404; each feature names its own (`images.errors.ImageNotFound`, …)."""


class Conflict(ApiError, status=409, code="CONFLICT"): ...


class StorageError(ApiError, status=503, code="STORAGE_ERROR"):
    """The image store refused a write (a full disk, …): nothing was saved."""

    retry_after = RETRY_AFTER_OUTAGE


class StorageDown(StorageError, code="STORAGE_UNAVAILABLE"):
    """The image store cannot be reached (S3 down, …)."""


class DatabaseDown(ApiError, status=503, code="DATABASE_UNAVAILABLE"):
    retry_after = RETRY_AFTER_OUTAGE


def outage(exc: BaseException) -> ApiError | None:
    """The 503 for an exception that means a dependency is down, else None."""
    if isinstance(
        exc, sa_errors.OperationalError | sa_errors.InterfaceError | sa_errors.TimeoutError
    ) or (isinstance(exc, sa_errors.DBAPIError) and exc.connection_invalidated):
        return DatabaseDown("the database is unavailable right now; retry shortly")
    if isinstance(exc, StorageUnavailable):
        return StorageDown("the image store is unavailable right now; retry shortly")
    return None


@dataclass(frozen=True)
class Problem:
    """What the API answers for an error, whatever the channel renders it as (the v1
    envelope, a live URL's SVG, an MCP tool error, OpenAI's error shape)."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] | None = None


def problem_of(exc: BaseException) -> Problem:
    """The one mapping of errors to answers: an `ApiError` says its own; a provider failure its
    code and status (with `Retry-After` and `details.reason` when it has them); a dependency
    that is down is a 503; anything else an INTERNAL_ERROR 500 (the caller logs it)."""
    exc = outage(exc) or exc
    if isinstance(exc, ApiError):
        return Problem(exc.status, exc.code, exc.message, dict(exc.headers), exc.details)
    if isinstance(exc, ProviderError):
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        details = {"reason": exc.reason} if exc.reason else None
        return Problem(exc.status, exc.code, exc.message, headers, details)
    return Problem(500, "INTERNAL_ERROR", "internal error")


def error_body(
    message: str, code: str, details: dict[str, Any] | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """The v1 error envelope; `requestId` (the request's, unless given) names the request in
    the server's logs."""
    error: dict[str, Any] = {"message": message, "code": code}
    if details:
        error["details"] = details
    request_id = request_id or context.request_id()
    if request_id:
        error["requestId"] = request_id
    context.note_error(code)
    return {"success": False, "error": error}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    merged = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse(status_code=status, content=body, headers=merged)


def install_error_handlers(app: FastAPI) -> None:
    async def _known(_: Request, exc: Exception) -> JSONResponse:
        problem = problem_of(exc)
        body = error_body(problem.message, problem.code, problem.details)
        return _json(problem.status, body, problem.headers)

    app.add_exception_handler(ApiError, _known)
    app.add_exception_handler(ProviderError, _known)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                reason = (err.get("ctx") or {}).get("error", "")
                position = err.get("loc", ("body", "?"))[-1]
                problems.append(f"the request body is not valid JSON ({reason} at {position})")
                continue
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        message = "; ".join(problems) or "invalid request"
        return _json(400, error_body(message, "VALIDATION_ERROR"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 400: the body could not be parsed at all (multipart without a boundary, …).
        code = {
            400: "VALIDATION_ERROR",
            401: "UNAUTHORIZED",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            413: "PAYLOAD_TOO_LARGE",
        }.get(exc.status_code, "HTTP_ERROR")
        return _json(exc.status_code, error_body(str(exc.detail), code), dict(exc.headers or {}))

    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        down = outage(exc)
        if down is None:
            return await _unexpected(request, exc)
        log.warning("%s: %s", down.code, exc)
        return await _known(request, down)

    for dependency_error in (sa_errors.DBAPIError, sa_errors.TimeoutError, StorageUnavailable):
        app.add_exception_handler(dependency_error, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Answered outside the app's middleware (Starlette's ServerErrorMiddleware), after the
        # request's context ended: its id comes from the scope.
        headers = {"X-Content-Type-Options": "nosniff"}
        info = request.scope.get(context.SCOPE_KEY)
        request_id = info.request_id if isinstance(info, context.RequestInfo) else None
        if request_id:
            headers[context.HEADER] = request_id
        down = outage(exc)  # raised by a fast path (plain ASGI middleware)
        if down is not None:
            log.warning("%s: %s", down.code, exc, extra={"request_id": request_id})
            body = error_body(down.message, down.code, request_id=request_id)
            return _json(down.status, body, {**headers, **down.headers})
        log.exception("unhandled error", exc_info=exc, extra={"request_id": request_id})
        body = error_body("internal error", "INTERNAL_ERROR", request_id=request_id)
        return _json(500, body, headers)
