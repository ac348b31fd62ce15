"""Bad input that used to be a 500 (or an undocumented code) is a 400 that names the field, on
SQLite and PostgreSQL; `meta` is bounded everywhere it is stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Keys
from tests.support.images import solid_png

SURROGATE = '"a \\ud800 b"'  # JSON text: a lone surrogate escape
NUL = '"a \\u0000 b"'


async def _post_raw(
    client: httpx.AsyncClient, keys: Keys, path: str, body: str, method: str = "POST"
) -> httpx.Response:
    return await client.request(
        method,
        path,
        headers={**keys.headers(), "Content-Type": "application/json"},
        content=body.encode(),
    )


def _names(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["message"], error["message"]


@pytest.mark.parametrize("text", [SURROGATE, NUL])
@pytest.mark.parametrize(
    "path, template, field",
    [
        ("/api/v1/generations", '{"prompt": %s}', "prompt"),
        ("/api/v1/enhance", '{"prompt": %s}', "prompt"),
        ("/api/v1/live/urls", '{"scope": "blog", "prompt": %s}', "prompt"),
        ("/api/v1/generations", '{"prompt": "a fox", "alias": %s}', "alias"),
        ("/api/v1/generations", '{"prompt": "a fox", "meta": {"note": %s}}', "meta.note"),
        ("/api/v1/live/scopes", '{"slug": "s", "meta": {%s: 1}}', "meta"),
    ],
)
async def test_unstorable_text_is_a_400(
    client: httpx.AsyncClient, keys: Keys, path: str, template: str, field: str, text: str
) -> None:
    _names(await _post_raw(client, keys, path, template % text), field)


async def test_nan_in_meta_is_a_400(client: httpx.AsyncClient, keys: Keys) -> None:
    for value in ("NaN", "Infinity", "-Infinity"):
        body = '{"prompt": "a fox", "meta": {"score": VALUE}}'.replace("VALUE", value)
        _names(await _post_raw(client, keys, "/api/v1/generations", body), "meta.score")
    uploaded = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("a.png", solid_png(8, 8))},
        data={"meta": '{"score": NaN}'},
    )
    _names(uploaded, "meta.score")


async def test_meta_is_bounded_everywhere_it_is_stored(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    big: dict[str, Any] = {"blob": "x" * (17 * 1024)}
    fine: dict[str, Any] = {"blob": "x" * (15 * 1024)}
    headers = keys.headers()
    generated = await client.post(
        "/api/v1/generations", headers=headers, json={"prompt": "a fox", "meta": big}
    )
    _names(generated, "meta")
    assert "16384" in generated.json()["error"]["message"]
    ok = await client.post(
        "/api/v1/generations", headers=headers, json={"prompt": "a fox", "meta": fine}
    )
    assert ok.status_code == 201, ok.text
    upload = await client.post(
        "/api/v1/images/upload",
        headers=headers,
        files={"file": ("a.png", solid_png(8, 8))},
        data={"meta": json.dumps(big)},
    )
    _names(upload, "meta")
    image_id = ok.json()["data"]["outputImage"]["id"]
    _names(
        await client.put(f"/api/v1/images/{image_id}", headers=headers, json={"meta": big}), "meta"
    )
    _names(
        await client.post("/api/v1/live/scopes", headers=headers, json={"slug": "s", "meta": big}),
        "meta",
    )
    created = await client.post("/api/v1/live/scopes", headers=headers, json={"slug": "t"})
    assert created.status_code == 201
    _names(await client.put("/api/v1/live/scopes/t", headers=headers, json={"meta": big}), "meta")


@pytest.mark.parametrize("path", ["/api/v1/generations", "/api/v1/images", "/api/v1/live/scopes"])
async def test_huge_offsets_are_a_400(client: httpx.AsyncClient, keys: Keys, path: str) -> None:
    response = await client.get(f"{path}?offset=99999999999999999999", headers=keys.headers())
    _names(response, "offset")


async def test_a_broken_referrer_url_is_a_400(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.put(
        "/api/v1/live/settings",
        headers=keys.headers(),
        json={"allowedReferrers": ["example.com", "http://[::1"]},
    )
    _names(response, "allowedReferrers")
    assert "[::1" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "content_type, body, says",
    [
        ("application/json", b'{"prompt": ', "not valid JSON"),
        ("application/json", b"\xff\xfe", "not valid JSON"),
        ("multipart/form-data; boundary=zzz", b"garbage", ""),
        ("multipart/form-data", b"garbage", ""),
    ],
)
async def test_unparseable_bodies_are_validation_errors(
    client: httpx.AsyncClient, keys: Keys, content_type: str, body: bytes, says: str
) -> None:
    path = "/api/v1/images/upload" if "multipart" in content_type else "/api/v1/generations"
    response = await client.post(
        path, headers={**keys.headers(), "Content-Type": content_type}, content=body
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert says in response.json()["error"]["message"]
