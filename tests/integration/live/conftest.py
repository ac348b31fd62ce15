"""Live URL fixtures: generous limits by default (tests that drive a limit lower it), helpers
to count generations and to speak from another client IP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from banatie.generation.models import Generation
from banatie.settings import Settings
from tests.conftest import app_settings

BROWSER_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(
        database_url,
        tmp_path,
        free_monthly_generations=1000,
        free_rate_limit="1000/minute",
        live_ip_rate_limit="1000/hour",
        live_poll_seconds=0.02,
    )


def live_url(prompt: str, scope: str = "blog", extra: str = "", project: str = "site") -> str:
    url = f"/cdn/acme/{project}/live/{scope}?prompt={quote(prompt)}"
    return f"{url}&{extra}" if extra else url


async def generation_count(app: FastAPI, status: str | None = None) -> int:
    async with app.state.runtime.sessionmaker() as session:
        query = select(func.count()).select_from(Generation)
        if status is not None:
            query = query.where(Generation.status == status)
        return int((await session.execute(query)).scalar_one())


ClientFactory = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_at(app: FastAPI) -> ClientFactory:
    """A client whose TCP peer address is the given IP."""

    @asynccontextmanager
    async def make(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return make
