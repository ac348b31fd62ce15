"""The list routes' SQL: which page was asked for, the filters given, one page of a query's
rows and how many match in all; and a project's row by its key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list was asked for (a route's `PageQuery`, an MCP list tool's)."""

    limit: int
    offset: int


def given(**filters: object) -> dict[str, object]:
    """The equality filters a list was given, for `Select.filter_by` (None: not filtered)."""
    return {name: value for name, value in filters.items() if value is not None}


async def fetch_page(
    session: AsyncSession, model: type[T], *order_by: Any, at: PageRequest, **where: object
) -> tuple[list[T], int]:
    """Page `at` of `model`'s rows whose columns equal `where` (None: any), in `order_by`
    order, and the count of all of them."""
    query = select(model).filter_by(**given(**where))
    total = await session.execute(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(*order_by).limit(at.limit).offset(at.offset))
    return list(rows.scalars().all()), int(total.scalar_one())


async def project_row(
    session: AsyncSession, model: type[T], project_id: str, **key: object
) -> T | None:
    """The project's row of `model` whose columns equal `key` (its id, its slug), or None."""
    result = await session.execute(select(model).filter_by(project_id=project_id, **key))
    return result.scalar_one_or_none()
