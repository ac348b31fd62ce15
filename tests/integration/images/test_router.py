"""`/api/v1/images`: uploads judged by content, aliases that move, edits, deletion, isolation."""

from __future__ import annotations

import json

import httpx
import pytest
import pyvips

from tests.conftest import Keys
from tests.support.images import encode, skimage_photo, solid_png


async def upload(
    client: httpx.AsyncClient,
    keys: Keys,
    data: bytes,
    name: str = "photo.png",
    **fields: str,
) -> httpx.Response:
    return await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": (name, data, "application/octet-stream")},
        data=fields,
    )


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
async def test_upload_each_format(client: httpx.AsyncClient, keys: Keys, suffix: str) -> None:
    data = encode(solid_png(120, 90), suffix)
    response = await upload(client, keys, data, name="anything.bin")
    assert response.status_code == 201, response.text
    image = response.json()["data"]["image"]
    assert image["source"] == "uploaded"
    assert (image["width"], image["height"]) == (120, 90)
    assert (
        image["mimeType"]
        == {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}[suffix]
    )
    assert image["fileSize"] == len(data)
    served = await client.get(f"/cdn/acme/site/img/{image['id']}")
    assert served.content == data
    assert served.headers["content-type"] == image["mimeType"]


async def test_upload_real_photo_is_analysed(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await upload(
        client,
        keys,
        skimage_photo("astronaut.png"),
        name="astronaut.png",
        meta=json.dumps({"credit": "NASA"}),
    )
    image = response.json()["data"]["image"]
    assert (image["width"], image["height"]) == (512, 512)
    assert image["meta"] == {"credit": "NASA"}
    assert image["originalFilename"] == "astronaut.png"
    assert "astronaut" in image["altText"].lower()
    assert len(image["dominantColors"]) >= 3


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\x00" * 100, "PNG, JPEG or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "damaged"),
    ],
)
async def test_bad_uploads(
    client: httpx.AsyncClient, keys: Keys, data: bytes, fragment: str
) -> None:
    response = await upload(client, keys, data, name="fake.png")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert fragment in response.json()["error"]["message"]


async def test_truncated_png_is_refused(client: httpx.AsyncClient, keys: Keys) -> None:
    data = skimage_photo("astronaut.png")
    response = await upload(client, keys, data[: len(data) // 2])
    assert response.status_code == 400
    listed = await client.get("/api/v1/images", headers=keys.headers())
    assert listed.json()["pagination"]["total"] == 0


async def test_oversize_and_decompression_bomb(
    client: httpx.AsyncClient, keys: Keys, app: object
) -> None:
    big = await upload(client, keys, b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024 + 10))
    assert big.status_code == 400 and "limit" in big.json()["error"]["message"]
    # 20000x20000 of one colour compresses to a few hundred KB but would decode to 1.2 GB.
    bomb = bytes(
        pyvips.Image.black(20000, 20000).cast("uchar").write_to_buffer(".png", compression=9)
    )
    assert len(bomb) < 5 * 1024 * 1024
    response = await upload(client, keys, bomb)
    assert response.status_code == 400
    assert "pixels" in response.json()["error"]["message"]


async def test_bad_meta(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await upload(client, keys, solid_png(), meta="[1, 2")
    assert response.status_code == 400 and "meta" in response.json()["error"]["message"]


async def test_alias_moves_between_images(client: httpx.AsyncClient, keys: Keys) -> None:
    first = (await upload(client, keys, solid_png(rgb=(1, 2, 3)), alias="@hero")).json()["data"]
    second = (await upload(client, keys, solid_png(rgb=(4, 5, 6)))).json()["data"]["image"]
    moved = await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": "hero"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["aliasMovedFrom"] == first["image"]["id"]
    assert moved.json()["data"]["image"]["alias"] == "@hero"
    old = await client.get(f"/api/v1/images/{first['image']['id']}", headers=keys.headers())
    assert old.json()["data"]["alias"] is None
    cdn = await client.get("/cdn/acme/site/img/@hero")
    assert cdn.headers["x-image-id"] == second["id"]
    assert "immutable" not in cdn.headers["cache-control"]
    removed = await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": None}
    )
    assert removed.json()["data"]["image"]["alias"] is None
    assert (await client.get("/cdn/acme/site/img/@hero")).status_code == 404


@pytest.mark.parametrize("alias", ["@last", "@", "two words", "@" + "x" * 120])
async def test_invalid_aliases(client: httpx.AsyncClient, keys: Keys, alias: str) -> None:
    image = (await upload(client, keys, solid_png())).json()["data"]["image"]
    response = await client.put(
        f"/api/v1/images/{image['id']}/alias", headers=keys.headers(), json={"alias": alias}
    )
    assert response.status_code == 400


async def test_get_update_delete_by_alias(client: httpx.AsyncClient, keys: Keys) -> None:
    image = (await upload(client, keys, solid_png(), alias="@pic")).json()["data"]["image"]
    got = await client.get("/api/v1/images/@pic", headers=keys.headers())
    assert got.json()["data"]["id"] == image["id"]
    updated = await client.put(
        "/api/v1/images/pic",
        headers=keys.headers(),
        json={"focalPoint": {"x": 0.1, "y": 0.9}, "altText": "a red card", "meta": {"k": "v"}},
    )
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert data["focalPoint"] == {"x": 0.1, "y": 0.9} and data["analyzer"] == "manual"
    assert data["altText"] == "a red card" and data["meta"] == {"k": "v"}
    bad = await client.put(
        "/api/v1/images/@pic", headers=keys.headers(), json={"focalPoint": {"x": 2, "y": 0}}
    )
    assert bad.status_code == 400
    deleted = await client.delete("/api/v1/images/@pic", headers=keys.headers())
    assert deleted.status_code == 200
    assert (
        await client.get(f"/api/v1/images/{image['id']}", headers=keys.headers())
    ).status_code == 404
    assert (await client.get(f"/cdn/acme/site/img/{image['id']}")).status_code == 404


async def test_list_pagination_and_filters(client: httpx.AsyncClient, keys: Keys) -> None:
    for i in range(3):
        await upload(client, keys, solid_png(rgb=(i, i, i)))
    await client.post("/api/v1/generations", headers=keys.headers(), json={"prompt": "sun"})
    page = (await client.get("/api/v1/images?limit=2&offset=0", headers=keys.headers())).json()
    assert page["pagination"] == {"total": 4, "limit": 2, "offset": 0, "hasMore": True}
    uploaded = (await client.get("/api/v1/images?source=uploaded", headers=keys.headers())).json()
    assert uploaded["pagination"]["total"] == 3
    bad = await client.get("/api/v1/images?limit=1000", headers=keys.headers())
    assert bad.status_code == 400


async def test_another_project_sees_nothing(client: httpx.AsyncClient, keys: Keys) -> None:
    image = (await upload(client, keys, solid_png(), alias="@mine")).json()["data"]["image"]
    other = await client.post(
        "/api/admin/keys",
        headers=keys.headers("master"),
        json={"type": "project", "projectSlug": "other"},
    )
    other_key = {"X-API-Key": other.json()["data"]["key"]}
    for method, path in [
        ("GET", f"/api/v1/images/{image['id']}"),
        ("GET", "/api/v1/images/@mine"),
        ("DELETE", f"/api/v1/images/{image['id']}"),
        ("PUT", f"/api/v1/images/{image['id']}/alias"),
    ]:
        body = {"alias": "@x"} if method == "PUT" else None
        response = await client.request(method, path, headers=other_key, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert image["fileHash"] not in response.text and "storageUrl" not in response.text
    listed = (await client.get("/api/v1/images", headers=other_key)).json()
    assert listed["data"] == []
    reference = await client.post(
        "/api/v1/generations",
        headers=other_key,
        json={"prompt": "x", "referenceImages": [image["id"]]},
    )
    assert reference.status_code == 400
    # The owner still has it.
    assert (
        await client.get(f"/api/v1/images/{image['id']}", headers=keys.headers())
    ).status_code == 200
