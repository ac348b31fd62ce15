"""One page of a query's rows and how many match in all (the list routes' SQL)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def fetch_page(
    session: AsyncSession, query: Select[T], *order_by: Any, limit: int, offset: int
) -> tuple[list[T], int]:
    """The rows of `query` in `order_by` order from `offset` (at most `limit`), and the count
    of all its rows."""
    total = await session.execute(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows.scalars().all()), int(total.scalar_one())
