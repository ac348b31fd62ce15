"""Keys made in the console are API keys like any other; members and their roles."""

from __future__ import annotations

import re

import httpx

from tests.integration.console.helpers import console_client, csrf_of, post_form, sign_up

SECRET_RE = re.compile(r'<code id="new-key">(bnt_[^<]+)</code>')


async def test_a_key_is_shown_once_works_on_the_api_and_can_be_revoked(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "kim@example.com")
    created = await post_form(
        client,
        "/console/kim/main/keys",
        "/console/kim/main/keys",
        {"name": "website", "expires_in_days": "30"},
    )
    assert created.status_code == 201
    secret = SECRET_RE.search(created.text)
    assert secret
    key = secret.group(1)
    api = await client.get("/api/v1/images", headers={"X-API-Key": key})
    assert api.status_code == 200, api.text
    listing = await client.get("/console/kim/main/keys")
    assert key not in listing.text and key[:12] in listing.text and "website" in listing.text
    key_id = re.search(r"/keys/([0-9a-f-]{36})/revoke", listing.text)
    assert key_id
    revoked = await client.post(
        f"/console/kim/main/keys/{key_id.group(1)}/revoke", data={"csrf_token": csrf_of(listing)}
    )
    assert revoked.status_code == 303
    assert "revoked" in (await client.get("/console/kim/main/keys")).text
    refused = await client.get("/api/v1/images", headers={"X-API-Key": key})
    assert refused.status_code == 401


async def test_a_bad_expiry_is_shown_in_place(client: httpx.AsyncClient) -> None:
    await sign_up(client, "lee@example.com")
    response = await post_form(
        client, "/console/lee/main/keys", "/console/lee/main/keys", {"expires_in_days": "0"}
    )
    assert response.status_code == 400
    assert "expiresInDays must be between 1 and 3650" in response.text
    assert "No keys yet" in response.text


async def test_owner_invites_a_member_who_cannot_manage_keys_then_removes_them(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "max@example.com")
    invited = await post_form(
        client, "/console/max/members", "/console/max/members/invite", {"role": "member"}
    )
    assert invited.status_code == 200
    link = re.search(
        r'<code id="invite-link">http://testserver(/console/invite/[^<]+)</code>', invited.text
    )
    assert link
    async with console_client(client) as member:
        await sign_up(member, "nia@example.com")
        joined = await post_form(member, link.group(1), link.group(1), {})
        assert joined.status_code == 303 and joined.headers["location"] == "/console/max"
        keys = await member.get("/console/max/main/keys")
        assert keys.status_code == 200 and "Only the organization's owners" in keys.text
        refused = await member.post(
            "/console/max/main/keys", data={"name": "x", "csrf_token": csrf_of(keys)}
        )
        assert refused.status_code == 403
        again = await post_form(member, "/console/max/members", link.group(1), {})
        assert again.status_code == 400  # an invitation link works once

        members = await client.get("/console/max/members")
        assert "nia@example.com" in members.text
        member_id = re.search(r"/members/([0-9a-f-]{36})/remove", members.text)
        assert member_id
        removed = await client.post(
            f"/console/max/members/{member_id.group(1)}/remove",
            data={"csrf_token": csrf_of(members)},
        )
        assert removed.status_code == 303
        assert (await member.get("/console/max/main/keys")).status_code == 404


async def test_owner_creates_a_project(client: httpx.AsyncClient) -> None:
    await sign_up(client, "oli@example.com")
    made = await post_form(client, "/console/oli", "/console/oli/projects", {"name": "Blog Images"})
    assert made.status_code == 303 and made.headers["location"].startswith(
        "/console/oli/blog-images"
    )
    assert "Blog Images" in (await client.get("/console/oli")).text
