"""Shared API shapes: camelCase models and the v1 response envelope."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from banatie.validation import unstorable

T = TypeVar("T")


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


#: `offset` of list routes: beyond it no database would page anyway (and SQLite's integers end).
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]


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


class ErrorEnvelope(CamelModel):
    success: bool = False
    error: ErrorInfo


def ok(data: T) -> Envelope[T]:
    return Envelope[T](data=data)


def page(items: list[T], *, total: int, limit: int, offset: int) -> ListEnvelope[T]:
    return ListEnvelope[T](
        data=items,
        pagination=Pagination(
            total=total, limit=limit, offset=offset, has_more=offset + len(items) < total
        ),
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "Validation error"},
    401: {"model": ErrorEnvelope, "description": "Missing, invalid, revoked or expired key"},
    404: {"model": ErrorEnvelope, "description": "Not found (or not yours)"},
}
