"""A browser-like console client over the ASGI app: cookies kept, forms posted with their
page's CSRF token."""

from __future__ import annotations

import re

import httpx

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {page.url}: {page.text[:300]}"
    return match.group(1)


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, data: dict[str, str]
) -> httpx.Response:
    """Open `page_path` (as a person would), then submit `data` to `action` with its token."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={**data, "csrf_token": csrf_of(page)})


async def sign_up(
    client: httpx.AsyncClient, email: str, password: str = "correct horse battery", org: str = ""
) -> httpx.Response:
    response = await post_form(
        client,
        "/console/signup",
        "/console/signup",
        {"email": email, "password": password, "organization": org},
    )
    assert response.status_code == 303, response.text
    return response


async def log_in(
    client: httpx.AsyncClient, email: str, password: str = "correct horse battery"
) -> httpx.Response:
    return await post_form(
        client, "/console/login", "/console/login", {"email": email, "password": password}
    )


def console_client(app_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A second browser on the same app (its own cookie jar)."""
    return httpx.AsyncClient(transport=app_client._transport, base_url="http://testserver")
