"""`/api/v1/live/scopes`: create, list, read, update, delete, list and delete images, regenerate."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import Keys
from tests.integration.live.conftest import generation_count, live_url


async def test_scope_crud(client: httpx.AsyncClient, keys: Keys) -> None:
    h = keys.headers()
    created = await client.post(
        "/api/v1/live/scopes",
        headers=h,
        json={"slug": "Landing", "newGenerationsLimit": 5, "meta": {"page": "/"}},
    )
    assert created.status_code == 201, created.text
    scope = created.json()["data"]
    assert scope["slug"] == "landing" and scope["allowNewGenerations"] is True
    assert scope["liveUrl"] == "http://testserver/cdn/acme/site/live/landing"
    assert scope["currentGenerations"] == 0 and scope["remainingGenerations"] == 5
    duplicate = await client.post("/api/v1/live/scopes", headers=h, json={"slug": "landing"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "SCOPE_ALREADY_EXISTS"
    bad = await client.post("/api/v1/live/scopes", headers=h, json={"slug": "no spaces"})
    assert bad.status_code == 400

    # A scope is created on first use, with the project's defaults.
    assert (await client.get(live_url("auto", "auto-made"))).status_code == 200
    listed = (await client.get("/api/v1/live/scopes", headers=h)).json()
    assert [s["slug"] for s in listed["data"]] == ["auto-made", "landing"]
    assert listed["pagination"]["total"] == 2
    auto = listed["data"][0]
    assert auto["newGenerationsLimit"] == 30 and auto["currentGenerations"] == 1
    assert auto["lastGeneratedAt"] is not None

    updated = await client.put(
        "/api/v1/live/scopes/landing",
        headers=h,
        json={"allowNewGenerations": False, "newGenerationsLimit": 7},
    )
    assert updated.json()["data"]["allowNewGenerations"] is False
    assert updated.json()["data"]["newGenerationsLimit"] == 7
    fetched = (await client.get("/api/v1/live/scopes/landing", headers=h)).json()["data"]
    assert fetched["meta"] == {"page": "/"} and fetched["newGenerationsLimit"] == 7
    missing = await client.get("/api/v1/live/scopes/nothing", headers=h)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SCOPE_NOT_FOUND"

    # No key, no scopes.
    assert (await client.get("/api/v1/live/scopes")).status_code == 401


async def test_scope_images_listed_deleted_and_regenerated(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    h = keys.headers()
    urls = [live_url(f"picture {i}", "gallery", "aspectRatio=4:3") for i in range(3)]
    first = [await client.get(url) for url in urls]
    assert all(r.status_code == 200 for r in first)

    listed = (await client.get("/api/v1/live/scopes/gallery/images", headers=h)).json()
    assert listed["pagination"]["total"] == 3
    item = next(i for i in listed["data"] if i["prompt"] == "picture 0")
    assert item["status"] == "ready" and item["aspectRatio"] == "4:3"
    assert item["imageId"] == first[0].headers["x-image-id"]
    assert item["image"]["width"] == 1184 and item["image"]["storageUrl"]
    assert item["liveUrl"] == "http://testserver" + urls[0].replace(
        "prompt=picture%200&aspectRatio=4:3", "prompt=picture%200&aspectRatio=4%3A3"
    )

    # Deleting an image: its URL generates anew on the next request.
    deleted = await client.delete(
        f"/api/v1/live/scopes/gallery/images/{item['imageId']}", headers=h
    )
    assert deleted.status_code == 200, deleted.text
    gone = await client.get(f"/cdn/acme/site/img/{item['imageId']}")
    assert gone.status_code == 404
    again = await client.get(urls[0])
    assert again.headers["x-cache-status"] == "MISS"
    assert again.headers["x-image-id"] != item["imageId"]

    # Regenerate one: the URL moves to a new image, the old one is deleted.
    old_id = first[1].headers["x-image-id"]
    one = await client.post(
        "/api/v1/live/scopes/gallery/regenerate", headers=h, json={"imageId": old_id}
    )
    assert one.status_code == 200, one.text
    new_id = one.json()["data"]["regenerated"][0]["imageId"]
    assert new_id != old_id
    moved = await client.get(urls[1])
    assert moved.headers["x-cache-status"] == "HIT" and moved.headers["x-image-id"] == new_id
    assert (await client.get(f"/cdn/acme/site/img/{old_id}")).status_code == 404

    # Regenerate all.
    before = {url: (await client.get(url)).headers["x-image-id"] for url in urls}
    everything = await client.post("/api/v1/live/scopes/gallery/regenerate", headers=h)
    assert everything.status_code == 200, everything.text
    assert len(everything.json()["data"]["regenerated"]) == 3
    assert everything.json()["data"]["failed"] == []
    for url in urls:
        after = await client.get(url)
        assert after.headers["x-cache-status"] == "HIT"
        assert after.headers["x-image-id"] != before[url]
    assert await generation_count(app) == 4  # 3 + the one after deletion; regenerations reuse

    # Deleting the scope deletes its images; its URLs generate again in a new scope.
    image_ids = [(await client.get(url)).headers["x-image-id"] for url in urls]
    removed = await client.delete("/api/v1/live/scopes/gallery", headers=h)
    assert removed.status_code == 200 and removed.json()["data"]["imagesDeleted"] == 3
    for image_id in image_ids:
        assert (await client.get(f"/cdn/acme/site/img/{image_id}")).status_code == 404
    assert (await client.get("/api/v1/live/scopes/gallery", headers=h)).status_code == 404
    assert (await client.get(urls[0])).headers["x-cache-status"] == "MISS"


async def test_image_deleted_through_images_api_regenerates(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    url = live_url("deleted elsewhere")
    image_id = (await client.get(url)).headers["x-image-id"]
    assert (await client.get(url)).headers["x-cache-status"] == "HIT"
    response = await client.delete(f"/api/v1/images/{image_id}", headers=keys.headers())
    assert response.status_code == 200, response.text
    again = await client.get(url)
    assert again.status_code == 200 and again.headers["x-cache-status"] == "MISS"
    assert again.headers["x-image-id"] != image_id


async def test_auto_create_can_be_turned_off(client: httpx.AsyncClient, keys: Keys) -> None:
    h = keys.headers()
    updated = await client.put(
        "/api/v1/live/settings",
        headers=h,
        json={"autoCreateScopes": False, "defaultNewGenerationsLimit": 3, "ipRateLimit": "5/hour"},
    )
    data = updated.json()["data"]
    assert data["autoCreateScopes"] is False and data["ipRateLimit"] == "5/hour"
    refused = await client.get(live_url("x", "unknown-scope"))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "SCOPE_NOT_FOUND"
    await client.post("/api/v1/live/scopes", headers=h, json={"slug": "known"})
    scope = (await client.get("/api/v1/live/scopes/known", headers=h)).json()["data"]
    assert scope["newGenerationsLimit"] == 3
    assert (await client.get(live_url("x", "known"))).status_code == 200
    bad = await client.put("/api/v1/live/settings", headers=h, json={"ipRateLimit": "lots"})
    assert bad.status_code == 400


async def test_scopes_are_isolated_per_project(client: httpx.AsyncClient, keys: Keys) -> None:
    sibling = await client.post(
        "/api/admin/keys",
        headers=keys.headers("master"),
        json={"type": "project", "projectSlug": "other", "name": "sibling"},
    )
    assert sibling.status_code == 201, sibling.text
    other = {"X-API-Key": sibling.json()["data"]["key"]}
    image_id = (await client.get(live_url("private picture", "secret"))).headers["x-image-id"]
    base = "/api/v1/live/scopes/secret"
    routes: list[tuple[str, str, dict[str, object]]] = [
        ("GET", base, {}),
        ("PUT", base, {"json": {"newGenerationsLimit": 1}}),
        ("DELETE", base, {}),
        ("GET", f"{base}/images", {}),
        ("DELETE", f"{base}/images/{image_id}", {}),
        ("POST", f"{base}/regenerate", {"json": {"imageId": image_id}}),
    ]
    for method, path, kwargs in routes:
        for headers, expected in ((other, 404), (keys.headers("master"), 403), ({}, 401)):
            response = await client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == expected, (method, path, response.text)
            assert image_id not in response.text
    listed = await client.get("/api/v1/live/scopes", headers=other)
    assert listed.json()["pagination"]["total"] == 0
    # The same live URL in another project is another cache entry.
    theirs = await client.get(live_url("private picture", "secret", project="other"))
    assert theirs.status_code == 200 and theirs.headers["x-image-id"] != image_id
    mine = (await client.get(f"{base}/images", headers=keys.headers())).json()
    assert [item["imageId"] for item in mine["data"]] == [image_id]
