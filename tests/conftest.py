"""Shared fixtures: a migrated database (SQLite file or the PostgreSQL server), an app wired to
it with local blob storage, an HTTP client, and keys made through the real bootstrap routes."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings

from banatie.app import create_app
from banatie.db import migrate
from banatie.settings import Settings

# Timings on a loaded 2-core machine vary a thousandfold: a per-example deadline fails correct
# code (seen in merge trains), so property tests bound themselves by example count only.
hypothesis_settings.register_profile("banatie", deadline=None)
hypothesis_settings.load_profile("banatie")

PG_ADMIN_URL = os.environ.get(
    "BANATIE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Every table a test writes (the rest go with CASCADE); `plans` keeps the seeded free plan.
TABLES = (
    "procrastinate_jobs, procrastinate_workers, batches, "
    "idempotency_keys, users, workers, blob_deletions, cdn_purges, bootstrap, usage_records, "
    "generations, images, flows, namespaces, api_keys, projects, organizations"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test gets a copy of the file (Alembic per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "banatie.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"banatie_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - the server is part of the machine
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url.replace("postgresql://", "postgresql+psycopg://"))
    yield url
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@contextmanager
def new_database() -> Iterator[str]:
    """An empty PostgreSQL database (not migrated), dropped on leaving."""
    name = f"banatie_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database (not migrated), dropped after the test."""
    with new_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "banatie.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {TABLES} CASCADE")
    return url


def app_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """The test app's settings (no .env, blobs under tmp_path, the test client's base URL), with
    a test's own overrides."""
    return Settings(
        **{
            "_env_file": None,
            "data_dir": tmp_path / "var",
            "database_url": database_url,
            "public_base_url": "http://testserver",
            **overrides,
        }
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.runtime.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@dataclass(frozen=True)
class Keys:
    master: str
    project: str
    organization: str = "acme"
    project_slug: str = "site"

    def headers(self, which: str = "project") -> dict[str, str]:
        return {"X-API-Key": self.master if which == "master" else self.project}


@pytest.fixture
async def keys(client: httpx.AsyncClient) -> Keys:
    boot = await client.post("/api/bootstrap/initial-key", json={"organizationSlug": "acme"})
    assert boot.status_code == 201, boot.text
    master = boot.json()["data"]["key"]
    created = await client.post(
        "/api/admin/keys",
        headers={"X-API-Key": master},
        json={"type": "project", "projectSlug": "site", "name": "tests"},
    )
    assert created.status_code == 201, created.text
    return Keys(master=master, project=created.json()["data"]["key"])
