"""`POST /api/bootstrap/initial-key`: once per installation, decided in the database, and never
a master key for an organization somebody else already holds keys for."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from banatie.accounts.first_run import ensure_first_run
from banatie.accounts.models import ApiKey
from banatie.app import create_app
from banatie.db import migrate
from banatie.settings import Settings
from tests.conftest import Keys

BOOTSTRAP = "/api/bootstrap/initial-key"


async def _master_keys(app: FastAPI) -> int:
    async with app.state.runtime.sessionmaker() as session:
        count = await session.execute(
            select(func.count()).select_from(ApiKey).where(ApiKey.type == "master")
        )
        return int(count.scalar_one())


async def test_concurrent_bootstraps_make_one_master_key(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    answers = await asyncio.gather(
        *(client.post(BOOTSTRAP, json={"organizationSlug": "acme"}) for _ in range(20))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * 19, [a.text for a in answers if a.status_code >= 500]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.json()["error"]["code"] == "BOOTSTRAP_DONE"
    assert await _master_keys(app) == 1


async def test_bootstrap_stays_closed_after_every_master_key_is_revoked(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    master = keys.headers("master")
    listed = (await client.get("/api/admin/keys", headers=master)).json()["data"]
    for row in listed:
        if row["type"] == "master":
            revoked = await client.delete(f"/api/admin/keys/{row['id']}", headers=master)
            assert revoked.status_code == 200
    for body in (None, {"organizationSlug": "acme"}, {"organizationSlug": "new-org"}):
        again = await client.post(BOOTSTRAP, json=body)
        assert again.status_code == 409, again.text
        assert again.json()["error"]["code"] == "BOOTSTRAP_DONE"


async def test_after_first_run_bootstrap_needs_the_first_run_key(settings: Settings) -> None:
    """`banatie serve` made org `default` with a project key: a stranger gets no master key
    (neither for `default` nor for a new organization); the key's holder gets one, once."""
    first = await ensure_first_run(settings)
    assert first is not None
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for body in (None, {"organizationSlug": "default"}, {"organizationSlug": "evil"}):
                stranger = await http.post(BOOTSTRAP, json=body)
                assert stranger.status_code == 401, stranger.text
                assert "X-API-Key" in stranger.json()["error"]["message"]
            wrong_org = await http.post(
                BOOTSTRAP,
                headers={"X-API-Key": first.key},
                json={"organizationSlug": "evil"},
            )
            assert wrong_org.status_code == 403, wrong_org.text
            owner = await http.post(BOOTSTRAP, headers={"X-API-Key": first.key})
            assert owner.status_code == 201, owner.text
            data = owner.json()["data"]
            assert data["type"] == "master" and data["organizationSlug"] == "default"
            master = {"X-API-Key": data["key"]}
            assert (await http.get("/api/admin/keys", headers=master)).status_code == 200
            again = await http.post(BOOTSTRAP, headers={"X-API-Key": first.key})
            assert again.status_code == 409
    finally:
        await app.state.runtime.close()


async def test_a_master_key_made_on_the_server_closes_bootstrap(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    from banatie.accounts import cli_ops

    await cli_ops.create_key(settings, "ops", None, "master", "made by hand", None)
    refused = await client.post(BOOTSTRAP, json={"organizationSlug": "acme"})
    assert refused.status_code == 409


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_an_install_with_a_master_key_counts_as_bootstrapped(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Migrating an existing install: a master key made before the marker existed (even one
    revoked since) closes bootstrap; an install without one stays open."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        async_url = url.replace("sqlite://", "sqlite+aiosqlite://")
    else:
        url = _fresh_postgres(request)
        async_url = url.replace("postgresql://", "postgresql+psycopg://")
    migrate.upgrade(async_url, "0004")
    statements = [
        "INSERT INTO organizations (id, slug, name, created_at, updated_at) "
        "VALUES ('o1', 'acme', 'acme', '2026-01-01', '2026-01-01')",
        "INSERT INTO api_keys (id, organization_id, type, key_hash, key_prefix, created_at, "
        "revoked_at) VALUES ('k1', 'o1', 'master', 'h', 'bnt_x', '2026-01-01', '2026-02-01')",
    ]
    if backend == "sqlite":
        with sqlite3.connect(tmp_path / "old.db") as lite:
            for statement in statements:
                lite.execute(statement)
    else:
        with psycopg.connect(url, autocommit=True) as pg:
            for statement in statements:
                pg.execute(statement)
    migrate.upgrade(async_url)
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=url)

    async def bootstrap() -> int:
        app = create_app(settings)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return (await http.post(BOOTSTRAP, json={"organizationSlug": "acme"})).status_code
        finally:
            await app.state.runtime.close()

    assert asyncio.run(bootstrap()) == 409


def _fresh_postgres(request: pytest.FixtureRequest) -> str:
    """An empty database of its own (the session's shared one is already at head)."""
    import uuid

    from tests.conftest import PG_ADMIN_URL

    name = f"banatie_mig_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    request.addfinalizer(drop)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
