"""Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, for every route of
`/openai/v1` — including the ones raised by authentication and validation before the handler."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from banatie.errors import ApiError, problem_of
from banatie.providers.errors import ProviderError

log = logging.getLogger(__name__)

# OpenAI's clients pick an exception class by status; `type` says the family.
_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
# The OpenAI SDK retries a 429 unless told not to: an allowance used up lasts until next month.
_NO_RETRY = {"QUOTA_EXCEEDED", "SCOPE_LIMIT_EXCEEDED"}


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """The body of every `/openai/v1` error, for the OpenAPI document."""

    error: OpenAIErrorDetail


#: `responses=` of the `/openai/v1` router: the statuses its routes answer, in OpenAI's shape.
OPENAI_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIError, "description": description}
    for status, description in (
        (400, "invalid_request_error: a field is wrong (`error.param` names it)"),
        (401, "authentication_error: missing, invalid, revoked or expired key"),
        (403, "permission_error: the key may not do this"),
        (404, "invalid_request_error: an image or model that does not exist"),
        (409, "invalid_request_error: a conflict"),
        (413, "invalid_request_error: the body is too large"),
        (422, "invalid_request_error: CONTENT_BLOCKED, the provider refused the prompt"),
        (429, "rate_limit_error or insufficient_quota"),
        (502, "server_error: the provider failed"),
        (503, "server_error: a dependency is unavailable; retry later"),
        (504, "server_error: the provider did not answer in time"),
    )
}


def openai_error(
    status: int,
    message: str,
    code: str,
    *,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    if code == "QUOTA_EXCEEDED":
        kind = "insufficient_quota"
    elif status >= 500:
        kind = "server_error"
    else:
        kind = _TYPES.get(status, "invalid_request_error")
    merged = {"Cache-Control": "no-store", **(headers or {})}
    if code in _NO_RETRY:
        merged["x-should-retry"] = "false"
    body = {"error": {"message": message, "type": kind, "param": param, "code": code.lower()}}
    return JSONResponse(status_code=status, content=body, headers=merged)


def _param(details: dict[str, Any] | None) -> str | None:
    param = (details or {}).get("param")
    return param if isinstance(param, str) else None


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    problems, param = [], None
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        param = param or where or None
        problems.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(problems) or "invalid request", param


class OpenAIRoute(APIRoute):
    """A route whose failures (auth, validation, the service, the provider) answer in OpenAI's
    error shape instead of Banatie's envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except (ApiError, ProviderError) as exc:
                problem = problem_of(exc)
                return openai_error(
                    problem.status,
                    problem.message,
                    problem.code,
                    param=_param(problem.details),
                    headers=problem.headers,
                )
            except RequestValidationError as exc:
                message, param = _validation_message(exc)
                return openai_error(400, message, "VALIDATION_ERROR", param=param)
            except HTTPException as exc:
                return openai_error(exc.status_code, str(exc.detail), "INVALID_REQUEST")

        return route
