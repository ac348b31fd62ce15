"""`/cdn/{org}/{project}/img/…`: bytes, content type, ETag/304, cache policy by id and alias."""

from __future__ import annotations

import httpx

from tests.conftest import Keys
from tests.support.images import solid_png


async def test_original_delivery_headers(client: httpx.AsyncClient, keys: Keys) -> None:
    data = solid_png()
    image = (
        await client.post(
            "/api/v1/images/upload",
            headers=keys.headers(),
            files={"file": ("a.png", data, "image/png")},
            data={"alias": "@a"},
        )
    ).json()["data"]["image"]
    by_id = await client.get(f"/cdn/acme/site/img/{image['id']}")
    assert by_id.status_code == 200 and by_id.content == data
    assert by_id.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert by_id.headers["content-length"] == str(len(data))
    etag = by_id.headers["etag"]
    again = await client.get(f"/cdn/acme/site/img/{image['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    head = await client.head(f"/cdn/acme/site/img/{image['id']}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))
    by_alias = await client.get("/cdn/acme/site/img/@a")
    assert by_alias.content == data
    assert by_alias.headers["cache-control"].startswith("public, max-age=")
    assert "immutable" not in by_alias.headers["cache-control"]


async def test_missing_things_are_404(client: httpx.AsyncClient, keys: Keys) -> None:
    for path in (
        "/cdn/acme/site/img/00000000-0000-0000-0000-000000000000",
        "/cdn/acme/site/img/@nothing",
        "/cdn/acme/nope/img/@x",
        "/cdn/acme/site/img/not-an-id",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["cache-control"] == "no-store"
