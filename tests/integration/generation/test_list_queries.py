"""A list route reads a page in a fixed number of SQL queries, however long the page (no query per
row), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from banatie.runtime import Runtime
from tests.conftest import Keys

PAGE = 4


@contextmanager
def counted(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def queries_for(client: httpx.AsyncClient, keys: Keys, app: FastAPI, url: str) -> int:
    with counted(app.state.runtime) as statements:
        response = await client.get(url, headers=keys.headers())
    assert response.status_code == 200, response.text
    return len(statements)


async def test_list_pages_cost_the_same_queries_at_any_length(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    for i in range(PAGE):  # each starts a flow; its output image is a project alias's holder
        created = await client.post(
            "/api/v1/generations",
            headers=keys.headers(),
            json={"prompt": f"a lighthouse, take {i}", "autoEnhance": False, "alias": f"@l{i}"},
        )
        assert created.status_code == 201, created.text
    for url in ("/api/v1/generations", "/api/v1/flows", "/api/v1/images"):
        await queries_for(client, keys, app, f"{url}?limit=1")  # warm: the key's last use
        one = await queries_for(client, keys, app, f"{url}?limit=1")
        full = await queries_for(client, keys, app, f"{url}?limit={PAGE}")
        assert full == one, f"{url}: {one} queries for one row, {full} for {PAGE}"
