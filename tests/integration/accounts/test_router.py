"""Keys: bootstrap once, master-only admin routes, project keys, revocation, expiry."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from banatie.accounts.models import ApiKey
from banatie.db.base import utcnow
from tests.conftest import Keys


async def test_bootstrap_only_once(client: httpx.AsyncClient, keys: Keys) -> None:
    again = await client.post("/api/bootstrap/initial-key")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "BOOTSTRAP_DONE"


async def test_keys_are_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, keys: Keys, app: object
) -> None:
    listed = await client.get("/api/admin/keys", headers=keys.headers("master"))
    assert listed.status_code == 200
    assert keys.project not in listed.text and keys.master not in listed.text
    rows = listed.json()["data"]
    assert {row["type"] for row in rows} == {"master", "project"}
    project_row = next(row for row in rows if row["type"] == "project")
    assert project_row["projectSlug"] == "site" and project_row["expiresAt"] is not None
    assert keys.project.startswith("bnt_")


async def test_auth_headers(client: httpx.AsyncClient, keys: Keys) -> None:
    assert (await client.get("/api/v1/images")).status_code == 401
    bearer = await client.get("/api/v1/images", headers={"Authorization": f"Bearer {keys.project}"})
    assert bearer.status_code == 200
    wrong = await client.get("/api/v1/images", headers={"X-API-Key": "bnt_" + "x" * 40})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "UNAUTHORIZED"
    junk = await client.get("/api/v1/images", headers={"X-API-Key": "hello"})
    assert junk.status_code == 401


async def test_project_key_cannot_administer(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/api/admin/keys", headers=keys.headers())
    assert response.status_code == 403 and response.json()["error"]["code"] == "FORBIDDEN"


async def test_master_key_cannot_generate(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.get("/api/v1/images", headers=keys.headers("master"))
    assert response.status_code == 403


async def test_revoked_key_says_so(client: httpx.AsyncClient, keys: Keys) -> None:
    listed = (await client.get("/api/admin/keys", headers=keys.headers("master"))).json()["data"]
    project_key_id = next(row["id"] for row in listed if row["type"] == "project")
    revoked = await client.delete(
        f"/api/admin/keys/{project_key_id}", headers=keys.headers("master")
    )
    assert revoked.status_code == 200 and revoked.json()["data"]["revokedAt"]
    response = await client.get("/api/v1/images", headers=keys.headers())
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


async def test_expired_key_says_so(client: httpx.AsyncClient, keys: Keys, app: object) -> None:
    runtime = app.state.runtime  # type: ignore[attr-defined]
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.type == "project")
            .values(expires_at=utcnow() - timedelta(days=1))
        )
        await session.commit()
    response = await client.get("/api/v1/images", headers=keys.headers())
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


async def test_master_is_confined_to_its_organization(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    response = await client.post(
        "/api/admin/keys",
        headers=keys.headers("master"),
        json={"type": "project", "organizationSlug": "someone-else", "projectSlug": "x"},
    )
    assert response.status_code == 403


async def test_admin_key_validation(client: httpx.AsyncClient, keys: Keys) -> None:
    for body in (
        {"type": "project"},
        {"type": "root", "projectSlug": "x"},
        {"type": "project", "projectSlug": "Bad Slug"},
        {"type": "project", "projectSlug": "x", "expiresInDays": 0},
    ):
        response = await client.post("/api/admin/keys", headers=keys.headers("master"), json=body)
        assert response.status_code == 400, (body, response.text)


async def test_revoke_unknown_key(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.delete("/api/admin/keys/nope", headers=keys.headers("master"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("bnt_wrong", "invalid API key"),
        ("bnt_" + "x" * 43, "invalid API key"),
        ("sk-1234", "invalid API key: Banatie keys start with bnt_"),
    ],
)
async def test_a_wrong_key_is_called_invalid(
    client: httpx.AsyncClient, keys: Keys, key: str, message: str
) -> None:
    """A key that starts with bnt_ is not told that keys start with bnt_."""
    response = await client.get("/api/v1/images", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == message
