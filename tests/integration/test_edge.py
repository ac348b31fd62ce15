"""The edge of the app (banatie.edge): body limits before parsing and auth, the headers every
response carries, CORS for the API and `/cdn`, NUL-free URLs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from banatie.app import create_app
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.images import solid_png

MB = 1024 * 1024


class Stream:
    """A request body sent in chunks without Content-Length; remembers how much was read."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"prompt": "'
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"a" * self.chunk
        yield b'"}'


def _refused(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "PAYLOAD_TOO_LARGE" and error["details"]["limit"] == limit
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_an_oversize_json_body_is_refused_before_auth(client: httpx.AsyncClient) -> None:
    body = json.dumps({"prompt": "a" * (2 * MB)})
    declared = await client.post(
        "/api/v1/generations", content=body, headers={"Content-Type": "application/json"}
    )
    _refused(declared, MB)
    # Streamed without Content-Length: reading stops at the limit, not at the end (300 MB).
    stream = Stream(300 * MB)
    chunked = await client.post(
        "/api/v1/generations", content=stream, headers={"Content-Type": "application/json"}
    )
    _refused(chunked, MB)
    assert stream.sent <= MB + stream.chunk


async def test_the_limit_holds_with_a_key_and_spares_smaller_bodies(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    big = await client.post("/api/v1/generations", headers=keys.headers(), content=Stream(3 * MB))
    _refused(big, MB)
    # Under the limit the route decides (the prompt's own limit, 5000 characters).
    under = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a" * (MB - 100)}
    )
    assert under.status_code == 400 and "5000" in under.json()["error"]["message"]


async def test_uploads_get_the_upload_limit(
    client: httpx.AsyncClient, keys: Keys, settings: Settings
) -> None:
    limit = settings.max_upload_request_bytes
    oversize = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("big.png", b"\0" * (settings.max_upload_bytes + 200 * 1024))},
    )
    _refused(oversize, limit)
    # A file of 2 MB is over the JSON limit, but well within an upload's.
    png = solid_png(64, 64) + b"\0" * (2 * MB)
    fine = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("pic.png", png)}
    )
    assert fine.status_code != 413, fine.text
    # Anywhere else, 2 MB of multipart is just an oversize body.
    elsewhere = await client.post(
        "/api/v1/generations", headers=keys.headers(), files={"file": ("pic.png", png)}
    )
    _refused(elsewhere, MB)


async def test_every_response_says_nosniff_and_cdn_runs_nothing(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    uploaded = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("a.png", solid_png(32, 32))},
    )
    image_id = uploaded.json()["data"]["image"]["id"]
    responses = {
        "api": uploaded,
        "api error": await client.get("/api/v1/images"),
        "health": await client.get("/health"),
        "openapi": await client.get("/openapi.json"),
        "unknown route": await client.get("/nope"),
    }
    cdn = {
        "original": await client.get(f"/cdn/acme/site/img/{image_id}"),
        "variant": await client.get(f"/cdn/acme/site/img/{image_id}?w=10"),
        "head": await client.head(f"/cdn/acme/site/img/{image_id}"),
        "missing": await client.get("/cdn/acme/site/img/@nothing"),
        "bad parameter": await client.get(f"/cdn/acme/site/img/{image_id}?w=-1"),
        "live": await client.get("/cdn/acme/site/live/blog?prompt=a+fox"),
        "live hit": await client.get("/cdn/acme/site/live/blog?prompt=a+fox"),
    }
    for name, response in {**responses, **cdn}.items():
        assert response.headers.get("x-content-type-options") == "nosniff", name
    for name, response in cdn.items():
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'none'" in policy and "sandbox" in policy, name
        assert response.headers.get("access-control-allow-origin") == "*", name
    assert cdn["live hit"].headers["x-cache-status"] == "HIT"
    assert "content-security-policy" not in responses["api"].headers


async def test_cdn_is_usable_from_any_origin(client: httpx.AsyncClient, keys: Keys) -> None:
    uploaded = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png(8, 8))}
    )
    url = f"/cdn/acme/site/img/{uploaded.json()['data']['image']['id']}"
    fetched = await client.get(url, headers={"Origin": "https://anywhere.example"})
    assert fetched.status_code == 200
    assert fetched.headers["access-control-allow-origin"] == "*"
    assert "x-image-id" in fetched.headers["access-control-expose-headers"].lower()
    preflight = await client.options(
        url,
        headers={
            "Origin": "https://anywhere.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "if-none-match"


PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "x-api-key, content-type",
}


async def test_api_cors_is_off_unless_configured(client: httpx.AsyncClient, keys: Keys) -> None:
    preflight = await client.options("/api/v1/generations", headers=PREFLIGHT)
    assert preflight.status_code == 403
    assert preflight.json()["error"]["code"] == "CORS_NOT_ALLOWED"
    assert "access-control-allow-origin" not in preflight.headers
    listed = await client.get(
        "/api/v1/images", headers={**keys.headers(), "Origin": "https://app.example"}
    )
    assert listed.status_code == 200 and "access-control-allow-origin" not in listed.headers


@pytest.fixture
def cors_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cors_origins": "https://app.example, https://b.example/"})


async def test_api_cors_for_configured_origins(cors_settings: Settings, tmp_path: Path) -> None:
    app: FastAPI = create_app(cors_settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            preflight = await http.options("/api/v1/generations", headers=PREFLIGHT)
            assert preflight.status_code == 200, preflight.text
            assert preflight.headers["access-control-allow-origin"] == "https://app.example"
            assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
            simple = await http.get("/api/v1/images", headers={"Origin": "https://b.example"})
            assert simple.status_code == 401
            assert simple.headers["access-control-allow-origin"] == "https://b.example"
            other = await http.options(
                "/api/v1/generations", headers={**PREFLIGHT, "Origin": "https://evil.example"}
            )
            assert other.status_code == 403
    finally:
        await app.state.runtime.close()


@pytest.mark.parametrize(
    "url, param",
    [
        ("/cdn/acme/site/live/blog?prompt=a%00b", "prompt"),
        ("/api/v1/images?flowId=%00", "flowId"),
        ("/api/v1/images/%00", None),
        ("/cdn/acme%00/site/img/@x", None),
    ],
)
async def test_a_nul_in_the_url_is_a_400(
    client: httpx.AsyncClient, keys: Keys, url: str, param: str | None
) -> None:
    response = await client.get(url, headers=keys.headers())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "NUL" in error["message"]
    if param:
        assert error["message"].startswith(param) and error["details"]["param"] == param
