"""Console accounts: sign-up, sessions in cookies, CSRF, log-in limits, reset and roles."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from banatie.accounts.models import Project
from banatie.app import create_app
from banatie.db.transactions import unit_of_work
from banatie.settings import Settings
from banatie.users import resets
from banatie.users import service as users
from tests.integration.console.helpers import (
    console_client,
    csrf_of,
    log_in,
    post_form,
    sign_up,
)


async def test_sign_up_makes_an_organization_with_a_free_project(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await sign_up(client, "Ada@Example.com", org="Analytical Engines")
    assert response.headers["location"] == "/console/analytical-engines/main?welcome=1"
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith("banatie_session=")
    )
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/console" in lowered
    assert "secure" not in lowered  # http://testserver: Secure only behind https
    page = await client.get("/console/analytical-engines/main/keys")
    assert page.status_code == 200
    assert "ada@example.com" in page.text and "No keys yet" in page.text
    async with app.state.runtime.sessionmaker() as session:
        project = (await session.execute(select(Project))).unique().scalar_one()
        assert (project.slug, project.plan) == ("main", "free")
        user = await users.find_user(session, "ada@example.com")
        assert user.password_hash.startswith("$argon2id$")


async def test_sign_up_refuses_short_password_and_taken_email(client: httpx.AsyncClient) -> None:
    short = await post_form(
        client,
        "/console/signup",
        "/console/signup",
        {"email": "bob@example.com", "password": "123456789"},
    )
    assert short.status_code == 400
    assert "at least 10 characters" in short.text
    await sign_up(client, "bob@example.com")
    async with console_client(client) as other:
        taken = await post_form(
            other,
            "/console/signup",
            "/console/signup",
            {"email": "BOB@example.com", "password": "another long password"},
        )
    assert taken.status_code == 409 and "already" in taken.text


async def test_forms_without_their_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login")
    refused = await client.post(
        "/console/login", data={"email": "x@example.com", "password": "whatever12345"}
    )
    assert refused.status_code == 403 and "CSRF" in refused.text
    await sign_up(client, "carol@example.com")
    keys_page = await client.get("/console/carol/main/keys")
    # The signed-out token does not pass for the session's forms.
    wrong = await client.post(
        "/console/carol/main/keys", data={"name": "x", "csrf_token": csrf_of(page)}
    )
    assert wrong.status_code == 403
    missing = await client.post("/console/carol/main/keys", data={"name": "x"})
    assert missing.status_code == 403
    after = await client.get("/console/carol/main/keys")
    assert "No keys yet" in after.text
    ok = await client.post(
        "/console/carol/main/keys", data={"name": "x", "csrf_token": csrf_of(keys_page)}
    )
    assert ok.status_code == 201


async def test_log_out_revokes_the_session_on_the_server(client: httpx.AsyncClient) -> None:
    await sign_up(client, "dan@example.com")
    stolen = client.cookies.get("banatie_session")
    page = await client.get("/console/dan/main/keys")
    out = await client.post("/console/logout", data={"csrf_token": csrf_of(page)})
    assert out.status_code == 303
    async with console_client(client) as thief:
        thief.cookies.set("banatie_session", stolen or "", path="/console")
        again = await thief.get("/console/dan/main/keys")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/console/login?next=")


async def test_log_in_wrong_password_then_rate_limited_per_account(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "eve@example.com")
    async with console_client(client) as browser:
        wrong = await log_in(browser, "eve@example.com", "not the password")
        assert wrong.status_code == 401 and "wrong email or password" in wrong.text
        good = await log_in(browser, "eve@example.com")
        assert good.status_code == 303
    async with console_client(client) as attacker:
        statuses = [
            (await log_in(attacker, "EVE@example.com", f"guess number {n}")).status_code
            for n in range(9)
        ]
        assert statuses[-1] == 429
        assert set(statuses[:-1]) == {401}
        # Even the right password waits now: the account's attempts are used up.
        blocked = await log_in(attacker, "eve@example.com")
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers


async def test_password_reset_is_one_time_and_signs_out_everywhere(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await sign_up(client, "fay@example.com")
    async with unit_of_work(app.state.runtime.sessionmaker) as session:
        _, token = await resets.reset_link_token(session, "fay@example.com")
    async with console_client(client) as browser:
        short = await post_form(
            browser, f"/console/reset/{token}", f"/console/reset/{token}", {"password": "short"}
        )
        assert short.status_code == 400
        done = await post_form(
            browser,
            f"/console/reset/{token}",
            f"/console/reset/{token}",
            {"password": "a brand new password"},
        )
        assert done.status_code == 303
        assert (await browser.get("/console/fay/main/keys")).status_code == 200
        used = await browser.get(f"/console/reset/{token}")
        assert used.status_code == 400 and "used, expired or wrong" in used.text
    # The session from before the reset is gone; the old password too.
    assert (await client.get("/console/fay/main/keys")).status_code == 303
    async with console_client(client) as browser:
        assert (await log_in(browser, "fay@example.com")).status_code == 401
        assert (await log_in(browser, "fay@example.com", "a brand new password")).status_code == 303


async def test_reset_request_says_the_same_for_unknown_addresses(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "gus@example.com")
    async with console_client(client) as browser:
        known = await post_form(
            browser, "/console/reset", "/console/reset", {"email": "gus@example.com"}
        )
        unknown = await post_form(
            browser, "/console/reset", "/console/reset", {"email": "nobody@example.com"}
        )
    assert known.status_code == unknown.status_code == 200
    assert "If gus@example.com has an account" in known.text
    assert "If nobody@example.com has an account" in unknown.text


async def test_another_organization_is_not_found(client: httpx.AsyncClient) -> None:
    await sign_up(client, "hal@example.com")
    async with console_client(client) as stranger:
        await sign_up(stranger, "ivy@example.com")
        for path in ("/console/hal", "/console/hal/main/keys", "/console/hal/members"):
            response = await stranger.get(path)
            assert response.status_code == 404, path
            assert "ORGANIZATION_NOT_FOUND" in response.text
        page = await stranger.get("/console/ivy/main/keys")
        posted = await stranger.post(
            "/console/hal/main/keys", data={"name": "mine", "csrf_token": csrf_of(page)}
        )
        assert posted.status_code == 404
    assert "No keys yet" in (await client.get("/console/hal/main/keys")).text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
async def test_log_in_never_redirects_off_the_console(
    client: httpx.AsyncClient, target: str
) -> None:
    await sign_up(client, "jo@example.com")
    async with console_client(client) as browser:
        page = await browser.get("/console/login")
        response = await browser.post(
            "/console/login",
            data={
                "email": "jo@example.com",
                "password": "correct horse battery",
                "next": target,
                "csrf_token": csrf_of(page),
            },
        )
    assert response.status_code == 303 and response.headers["location"] == "/console"


async def test_cookies_are_secure_behind_https(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"public_base_url": "https://img.example"}))
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://img.example"
        ) as browser:
            page = await browser.get("/console/signup")
            assert "secure" in page.headers["set-cookie"].lower()  # the signed-out CSRF cookie
            response = await sign_up(browser, "sec@example.com")
            cookie = response.headers["set-cookie"].lower()
            assert "banatie_session=" in cookie and "secure" in cookie and "httponly" in cookie
    finally:
        await application.state.runtime.close()
