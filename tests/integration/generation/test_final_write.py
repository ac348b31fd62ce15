"""A generation whose last step (storing the image's rows) fails answers the honest code, is
stored `failed` and costs nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from tests.conftest import Keys
from tests.integration.providers.support import generations, usage_used
from tests.support.images import solid_png


async def with_status(client: httpx.AsyncClient, keys: Keys, status: str) -> list[dict[str, Any]]:
    return [g for g in await generations(client, keys) if g["status"] == status]


async def test_storage_full_is_a_429_and_the_generation_fails(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    settings = app.state.runtime.settings
    settings.free_storage_mb = 0
    response = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a lighthouse"}
    )
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert "storage" in response.json()["error"]["message"]

    assert await with_status(client, keys, "processing") == []
    [failed] = await with_status(client, keys, "failed")
    assert failed["errorCode"] == "QUOTA_EXCEEDED"
    assert await usage_used(client, keys) == 0  # the reservation went with the failure

    # Not stuck: with room again, regenerating it succeeds.
    settings.free_storage_mb = 100
    again = await client.post(
        f"/api/v1/generations/{failed['id']}/regenerate", headers=keys.headers()
    )
    assert again.status_code == 200, again.text
    assert again.json()["data"]["status"] == "success"
    assert await usage_used(client, keys) == 1


# SQLite serialises writers: there the alias cannot be taken in between.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_alias_lost_at_the_final_write_is_a_409(
    client: httpx.AsyncClient, keys: Keys, database_url: str
) -> None:
    """Another transaction takes the alias after the generation looked it up and before it
    wrote it: PostgreSQL's unique index decides, and the loser says so."""
    upload = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    assert upload.status_code == 201, upload.text
    holder = upload.json()["data"]["image"]["id"]

    async with await psycopg.AsyncConnection.connect(database_url) as other:
        await other.execute("UPDATE images SET alias = '@hero' WHERE id = %s", (holder,))
        request = asyncio.create_task(
            client.post(
                "/api/v1/generations",
                headers=keys.headers(),
                json={"prompt": "a hero banner", "alias": "@hero"},
            )
        )
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as probe:
            for _ in range(400):  # until the generation waits on the alias held above
                row = await (
                    await probe.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                    )
                ).fetchone()
                if (row and row[0]) or request.done():
                    break
                await asyncio.sleep(0.05)
        assert not request.done(), request.result().text
        await other.commit()
    response = await request

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "ALIAS_CONFLICT"
    assert await with_status(client, keys, "processing") == []
    [failed] = await with_status(client, keys, "failed")
    assert failed["errorCode"] == "ALIAS_CONFLICT"
    assert await usage_used(client, keys) == 0
    by_alias = await client.get("/api/v1/images/@hero", headers=keys.headers())
    assert by_alias.json()["data"]["id"] == holder
