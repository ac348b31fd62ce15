"""`/api/v1/webhooks`: endpoints are created with a Standard Webhooks secret shown once, listed,
changed, rotated and deleted; targets on private addresses are refused with a stable code."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import Keys
from tests.integration.webhooks.conftest import HOOKS, project_key


async def test_an_endpoint_is_created_listed_changed_rotated_and_deleted(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    created = await client.post(
        HOOKS,
        headers=keys.headers(),
        json={
            "url": "http://127.0.0.1:9/hooks",
            "events": ["generation.failed"],
            "description": "alerts",
        },
    )
    assert created.status_code == 201, created.text
    hook = created.json()["data"]
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert hook["events"] == ["generation.failed"] and hook["enabled"] is True

    shown = (await client.get(f"{HOOKS}/{hook['id']}", headers=keys.headers())).json()["data"]
    assert "secret" not in shown and shown["description"] == "alerts"
    listed = (await client.get(HOOKS, headers=keys.headers())).json()
    assert [h["id"] for h in listed["data"]] == [hook["id"]]
    assert listed["pagination"]["total"] == 1

    changed = await client.put(
        f"{HOOKS}/{hook['id']}", headers=keys.headers(), json={"enabled": False, "events": []}
    )
    assert changed.status_code == 200
    assert changed.json()["data"]["enabled"] is False and changed.json()["data"]["events"] == []

    rotated = await client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=keys.headers())
    assert rotated.json()["data"]["secret"].startswith("whsec_")
    assert rotated.json()["data"]["secret"] != secret

    deleted = await client.delete(f"{HOOKS}/{hook['id']}", headers=keys.headers())
    assert deleted.json()["data"] == {"id": hook["id"], "deleted": True}
    missing = await client.get(f"{HOOKS}/{hook['id']}", headers=keys.headers())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "WEBHOOK_NOT_FOUND"


async def test_the_signing_secret_for_request_urls_is_stable_until_rotated(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    first = (await client.get(f"{HOOKS}/signing-secret", headers=keys.headers())).json()["data"]
    again = (await client.get(f"{HOOKS}/signing-secret", headers=keys.headers())).json()["data"]
    assert first["secret"].startswith("whsec_") and again["secret"] == first["secret"]
    rotated = await client.post(f"{HOOKS}/signing-secret/rotate", headers=keys.headers())
    assert rotated.json()["data"]["secret"] != first["secret"]


async def test_unknown_events_and_missing_urls_are_validation_errors(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    bodies: list[dict[str, object]] = [
        {"url": "http://127.0.0.1:9/", "events": ["image.deleted"]},
        {"events": []},
    ]
    for body in bodies:
        refused = await client.post(HOOKS, headers=keys.headers(), json=body)
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://10.0.0.7/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "ftp://example.com/hooks",
        "file:///etc/passwd",
    ],
)
async def test_private_and_non_http_targets_are_refused(
    guarded_client: httpx.AsyncClient, url: str
) -> None:
    client = guarded_client
    key = await project_key(client)
    refused = await client.post(HOOKS, headers={"X-API-Key": key}, json={"url": url})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "URL_NOT_ALLOWED"
    assert error["details"] == {"field": "url"}
    listed = await client.get(HOOKS, headers={"X-API-Key": key})
    assert listed.json()["data"] == []
