"""API errors with stable codes, and the handlers that render them in the v1 envelope."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_errors
from starlette.exceptions import HTTPException as StarletteHTTPException

from banatie.providers.errors import ProviderError
from banatie.storage.base import StorageUnavailable

log = logging.getLogger(__name__)

# Seconds a client is asked to wait while a dependency (database, Redis, S3) is down.
RETRY_AFTER_OUTAGE = "5"


class ApiError(Exception):
    status = 400
    code = "VALIDATION_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = headers or {}


class ValidationError(ApiError):
    status = 400
    code = "VALIDATION_ERROR"


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"

    def __init__(self, message: str, *, code: str = "NOT_FOUND") -> None:
        super().__init__(message, code=code)


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"


def outage(exc: BaseException) -> ApiError | None:
    """The 503 for an exception that means a dependency is down, else None."""
    if isinstance(
        exc, sa_errors.OperationalError | sa_errors.InterfaceError | sa_errors.TimeoutError
    ) or (isinstance(exc, sa_errors.DBAPIError) and exc.connection_invalidated):
        what, code = "the database", "DATABASE_UNAVAILABLE"
    elif isinstance(exc, StorageUnavailable):
        what, code = "the image store", "STORAGE_UNAVAILABLE"
    else:
        return None
    return ApiError(
        f"{what} is unavailable right now; retry shortly",
        code=code,
        status=503,
        headers={"Retry-After": RETRY_AFTER_OUTAGE},
    )


def error_body(message: str, code: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "code": code}
    if details:
        error["details"] = details
    return {"success": False, "error": error}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    merged = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse(status_code=status, content=body, headers=merged)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, error_body(exc.message, exc.code, exc.details), exc.headers)

    @app.exception_handler(ProviderError)
    async def _provider_error(_: Request, exc: ProviderError) -> JSONResponse:
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        details = {"reason": exc.reason} if exc.reason else None
        return _json(exc.status, error_body(exc.message, exc.code, details), headers)

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
        return await _api_error(request, down)

    for dependency_error in (sa_errors.DBAPIError, sa_errors.TimeoutError, StorageUnavailable):
        app.add_exception_handler(dependency_error, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Answered outside the app's middleware (Starlette's ServerErrorMiddleware).
        headers = {"X-Content-Type-Options": "nosniff"}
        down = outage(exc)  # raised by a fast path (plain ASGI middleware)
        if down is not None:
            log.warning("%s: %s", down.code, exc)
            body = error_body(down.message, down.code)
            return _json(down.status, body, {**headers, **down.headers})
        log.exception("unhandled error", exc_info=exc)
        return _json(500, error_body("internal error", "INTERNAL_ERROR"), headers)
