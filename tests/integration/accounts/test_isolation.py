"""The isolation matrix: every route against callers outside the resource's scope. Nobody sees or
changes what is not theirs, and an unseen resource answers 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from banatie.accounts.models import ApiKey
from banatie.db.base import utcnow
from tests.conftest import Keys
from tests.support.images import solid_png


@dataclass
class World:
    owner: dict[str, str]
    generation_id: str
    image_id: str
    owner_key_id: str
    callers: dict[str, dict[str, str]]


async def make_key(client: httpx.AsyncClient, master: str, project: str) -> tuple[str, str]:
    response = await client.post(
        "/api/admin/keys", headers={"X-API-Key": master}, json={"projectSlug": project}
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["key"], response.json()["data"]["id"]


@pytest.fixture
async def world(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> World:
    owner = keys.headers()
    generation = (
        await client.post("/api/v1/generations", headers=owner, json={"prompt": "secret"})
    ).json()["data"]
    image = (
        await client.post(
            "/api/v1/images/upload",
            headers=owner,
            files={"file": ("a.png", solid_png())},
            data={"alias": "@secret"},
        )
    ).json()["data"]["image"]
    listed = (await client.get("/api/admin/keys", headers=keys.headers("master"))).json()["data"]
    owner_key_id = next(k["id"] for k in listed if k["type"] == "project")

    sibling, _ = await make_key(client, keys.master, "other")
    revoked, revoked_id = await make_key(client, keys.master, "site")
    await client.delete(f"/api/admin/keys/{revoked_id}", headers=keys.headers("master"))
    expired, expired_id = await make_key(client, keys.master, "site")
    async with app.state.runtime.sessionmaker() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.id == expired_id).values(expires_at=utcnow() - timedelta(1))
        )
        await session.commit()
    # Another organization, made on the server (a master key cannot create organizations).
    from banatie.accounts import cli_ops

    foreign_master, _ = await cli_ops.create_key(
        app.state.runtime.settings, "globex", None, "master", None, None
    )
    foreign_project, _ = await make_key(client, foreign_master, "site")  # same project slug
    return World(
        owner=owner,
        generation_id=generation["id"],
        image_id=image["id"],
        owner_key_id=owner_key_id,
        callers={
            "none": {},
            "revoked": {"X-API-Key": revoked},
            "expired": {"X-API-Key": expired},
            "sibling-project": {"X-API-Key": sibling},
            "foreign-master": {"X-API-Key": foreign_master},
            "foreign-project": {"X-API-Key": foreign_project},
        },
    )


def routes(w: World) -> list[tuple[str, str, dict[str, object]]]:
    g, i = w.generation_id, w.image_id
    return [
        ("GET", f"/api/v1/generations/{g}", {}),
        ("DELETE", f"/api/v1/generations/{g}", {}),
        ("POST", f"/api/v1/generations/{g}/regenerate", {}),
        ("GET", f"/api/v1/images/{i}", {}),
        ("GET", "/api/v1/images/@secret", {}),
        ("PUT", f"/api/v1/images/{i}", {"json": {"altText": "pwned"}}),
        ("PUT", f"/api/v1/images/{i}/alias", {"json": {"alias": "@stolen"}}),
        ("DELETE", f"/api/v1/images/{i}", {}),
        ("DELETE", "/api/v1/images/@secret", {}),
        ("POST", "/api/v1/generations", {"json": {"prompt": "x", "referenceImages": [i]}}),
        ("POST", "/api/v1/generations", {"json": {"prompt": "use @secret"}}),
        ("DELETE", f"/api/admin/keys/{w.owner_key_id}", {}),
        ("PUT", "/api/admin/projects/other/plan", {"json": {"plan": "free"}}),
    ]


LIST_ROUTES = ["/api/v1/generations", "/api/v1/images", "/api/admin/keys"]


async def test_isolation_matrix(client: httpx.AsyncClient, world: World) -> None:
    failures = []
    for caller, headers in world.callers.items():
        for method, path, kwargs in routes(world):
            response = await client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
            body = response.text
            if caller in ("none", "revoked", "expired"):
                expected = {401}
            elif caller == "foreign-master" and path.startswith("/api/v1"):
                expected = {403}  # master keys do not use project routes at all
            elif caller.endswith("-project") and path.startswith("/api/admin"):
                expected = {403}  # project keys do not administer
            elif method == "POST" and path == "/api/v1/generations":
                expected = {400}  # the reference does not resolve in the caller's project
            else:
                expected = {404}
            leaked = world.image_id in body and "not found" not in body
            if response.status_code not in expected or leaked or "pwned" in body:
                failures.append((caller, method, path, response.status_code, body[:200]))
        for path in LIST_ROUTES:
            response = await client.get(path, headers=headers)
            if world.image_id in response.text or world.generation_id in response.text:
                failures.append((caller, "GET", path, response.status_code, "leaked"))
            if response.status_code == 200 and world.owner_key_id in response.text:
                failures.append((caller, "GET", path, response.status_code, "leaked key"))
    assert not failures, "\n".join(map(str, failures))

    # The owner's resources are untouched.
    image = (await client.get(f"/api/v1/images/{world.image_id}", headers=world.owner)).json()
    assert image["data"]["alias"] == "@secret" and image["data"]["altText"] != "pwned"
    generation = await client.get(f"/api/v1/generations/{world.generation_id}", headers=world.owner)
    assert generation.status_code == 200
    assert (await client.get("/api/v1/images", headers=world.owner)).status_code == 200
