"""Shared API shapes: camelCase models and the v1 response envelope."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from banatie.db.paging import PageRequest
from banatie.validation import unstorable

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class StorableModel(BaseModel):
    """A request body whose text and numbers can all be stored."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        """No NUL, lone surrogate or NaN anywhere in a body (banatie.validation)."""
        found = unstorable(data)
        if found:
            raise PydanticCustomError(
                "unstorable",
                "{where} {problem}",
                dict(zip(("where", "problem"), found, strict=True)),
            )
        return data


class RequestModel(CamelModel, StorableModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def from_row(model: type[M], row: object, **fields: Any) -> M:
    """A response model whose every field not given in `fields` is `row`'s attribute of the same
    name: a presenter names only what it computes, renames or converts."""
    values = {name: getattr(row, name) for name in model.model_fields.keys() - fields.keys()}
    return model.model_validate({**values, **fields})


#: A page's largest `limit`, for the list routes and the MCP list tools alike.
MAX_LIMIT = 100
#: The largest `offset`: beyond it no database would page anyway (and SQLite's integers end).
MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20, offset: Offset = 0
) -> PageRequest:
    return PageRequest(limit, offset)


#: A list route's `limit` (1-100, default 20) and `offset` query parameters.
PageQuery = Annotated[PageRequest, Depends(_page_request)]


class Pagination(CamelModel):
    total: int
    limit: int
    offset: int
    has_more: bool


class Envelope(CamelModel, Generic[T]):
    success: bool = True
    data: T


class ListEnvelope(CamelModel, Generic[T]):
    success: bool = True
    data: list[T]
    pagination: Pagination


class ErrorInfo(CamelModel):
    message: str
    code: str
    details: dict[str, Any] | None = None
    # The request's id (its `X-Request-ID`), as the server's log lines name it.
    request_id: str | None = None


class ErrorEnvelope(CamelModel):
    success: bool = False
    error: ErrorInfo


def ok(data: T) -> Envelope[T]:
    return Envelope[T](data=data)


def pagination(total: int, at: PageRequest, count: int) -> Pagination:
    """The pagination of page `at` of `count` items (the list routes' and the MCP list tools')."""
    return Pagination(
        total=total, limit=at.limit, offset=at.offset, has_more=at.offset + count < total
    )


def page(items: list[T], *, total: int, at: PageRequest) -> ListEnvelope[T]:
    return ListEnvelope[T](data=items, pagination=pagination(total, at, len(items)))


#: What each error status means here, for the OpenAPI document (codes in `error.code`).
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "VALIDATION_ERROR: a parameter or field is wrong (`error.details.param` or the "
    "message names it)",
    401: "UNAUTHORIZED: missing, invalid, revoked or expired key",
    403: "FORBIDDEN: the key may not do this (a master key where a project key is needed, or "
    "the reverse)",
    404: "*_NOT_FOUND: no such resource (or not yours)",
    409: "a conflict: ALIAS_CONFLICT, GENERATION_IN_PROGRESS, BOOTSTRAP_DONE, …",
    413: "PAYLOAD_TOO_LARGE: the body is larger than this route accepts",
    422: "CONTENT_BLOCKED: the provider refused the prompt (`error.details.reason`)",
    429: "RATE_LIMIT_EXCEEDED or QUOTA_EXCEEDED (with Retry-After)",
    502: "PROVIDER_ERROR: the image or text provider failed",
    503: "a dependency (database, provider, rate limiter) is unavailable; retry later",
    504: "PROVIDER_TIMEOUT: the provider did not answer in time",
}


def error_response(status: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response object: the error envelope with what ``status`` means here."""
    return {
        "description": description or ERROR_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }


def error_response_model(description: str) -> dict[str, Any]:
    """One entry of a route's `responses=`: the error envelope, described."""
    return {"model": ErrorEnvelope, "description": description}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: the error envelope under each status."""
    return {status: error_response_model(ERROR_DESCRIPTIONS[status]) for status in statuses}


#: A 200 of image bytes, in any format delivery serves (originals may also be GIF).
IMAGE_CONTENT: dict[str, Any] = {
    mime: {"schema": {"type": "string", "format": "binary"}}
    for mime in ("image/png", "image/jpeg", "image/webp", "image/avif", "image/gif")
}

#: Every authenticated route: a bad field, a bad key, the wrong kind of key, a missing thing.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = errors(400, 401, 403, 404)
