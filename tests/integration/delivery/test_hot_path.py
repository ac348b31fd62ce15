"""The hot path: the plain-ASGI front of `/cdn/…/img/…` (same answers as the FastAPI route),
PNG originals decoded once for all their variants, and the short-lived image-row cache."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from banatie.delivery import rendering
from banatie.delivery import service as delivery_service
from banatie.delivery.fastpath import DeliveryFastPath
from banatie.delivery.transform import DECODED_MAGIC
from banatie.delivery.transform import render as real_render
from banatie.delivery.warm import WarmReplies
from banatie.storage.local import LocalBlobStore
from tests.conftest import Keys
from tests.integration.delivery.conftest import (
    AppFactory,
    decode,
    route_only,
    runtime_of,
    upload,
)


async def test_fast_path_and_route_answer_alike(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys, alias="@same")
    # The FastAPI route alone (no fast path in front), on the same runtime.
    async with route_only(app) as route:
        for path in (
            f"/cdn/acme/site/img/{image['id']}",
            f"/cdn/acme/site/img/{image['id']}?w=33&format=png",
            "/cdn/acme/site/img/%40same?w=33&format=png",
            "/cdn/acme/site/img/@same?w=0",
            "/cdn/acme/site/img/@nothing",
        ):
            for method in ("GET", "HEAD"):
                same = {"X-Request-ID": "same-request"}  # named in error bodies
                fast = await client.request(method, path, headers=same)
                slow = await route.request(method, path, headers=same)
                assert fast.status_code == slow.status_code, path
                assert fast.content == slow.content, path
                for name in ("etag", "cache-control", "content-type", "content-length", "vary"):
                    assert fast.headers.get(name) == slow.headers.get(name), (path, name)


async def test_fast_path_leaves_other_routes_alone(client: httpx.AsyncClient, keys: Keys) -> None:
    image = await upload(client, keys)
    assert (await client.get("/health")).status_code == 200
    # Not exactly /cdn/{org}/{project}/img/{ref}: the router answers (404 envelope).
    for path in ("/cdn/acme/site/img", "/cdn/acme/site/img/x/y", "/cdn/acme/site/imgs/x"):
        response = await client.get(path)
        assert response.status_code == 404, path
    posted = await client.post(f"/cdn/acme/site/img/{image['id']}")
    assert posted.status_code == 405


async def test_unexpected_errors_are_a_500_envelope(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = await upload(client, keys)

    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(delivery_service, "deliver", boom)
    response = await client.get(f"/cdn/acme/site/img/{image['id']}?w=10")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    assert response.headers["cache-control"] == "no-store"


async def test_a_png_is_decoded_once_for_its_later_variants(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = await upload(client, keys)
    seen: list[bool] = []

    def spying_render(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        seen.append(data.startswith(DECODED_MAGIC))
        return real_render(data, *args, **kwargs)

    monkeypatch.setattr(rendering, "render", spying_render)
    base = f"/cdn/acme/site/img/{image['id']}"
    for query in ("w=40", "w=41&format=webp", "w=20&h=20&mode=crop&format=jpeg"):
        response = await client.get(f"{base}?{query}")
        assert response.status_code == 200
        assert decode(response.content).width in (40, 41, 20)
    # The first variant renders from the PNG and keeps nothing else; the second decodes it
    # once and keeps the pixels, which every later variant starts from.
    assert seen == [False, True, True]
    store = runtime_of(app).blobs
    assert isinstance(store, LocalBlobStore)
    decoded = store.root / "acme" / "site" / "img" / image["id"] / "d" / "pixels-v1"
    assert (decoded / "__blob__").exists()
    # It goes with the image.
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert not decoded.exists()


async def test_a_jpeg_is_not_decoded_ahead(
    client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """JPEG shrinks on load: rendering from the original is already the fast way."""
    import pyvips

    from tests.integration.delivery.conftest import quadrants_png

    jpeg = bytes(pyvips.Image.new_from_buffer(quadrants_png(), "").jpegsave_buffer(Q=90))
    image = await upload(client, keys, jpeg)
    seen: list[bool] = []

    def spying_render(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        seen.append(data.startswith(DECODED_MAGIC))
        return real_render(data, *args, **kwargs)

    monkeypatch.setattr(rendering, "render", spying_render)
    assert (await client.get(f"/cdn/acme/site/img/{image['id']}?w=30")).status_code == 200
    assert seen == [False]


async def test_image_rows_are_reused_briefly_and_forgotten_on_change(
    keys: Keys, app_with: AppFactory
) -> None:
    """Two apps on one database stand for two processes: a change made through one is seen
    at once by it, and by the other within the TTL."""
    client, app = await app_with(delivery_metadata_ttl_seconds=600)
    other, other_app = await app_with(delivery_metadata_ttl_seconds=600)
    image = await upload(client, keys, alias="@moving")
    second = await upload(client, keys)
    for http in (client, other):
        got = await http.get("/cdn/acme/site/img/@moving?w=10")
        assert got.headers["x-image-id"] == image["id"]
    assert len(runtime_of(app).delivery.rows) == 1
    await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": "@moving"}
    )
    # The process that made the change forgets at once ...
    moved = await client.get("/cdn/acme/site/img/@moving?w=10")
    assert moved.headers["x-image-id"] == second["id"]
    # ... while another one (each runtime owns its cache) serves its row until the TTL ends,
    # and the CDN purge waits that long.
    stale = await other.get("/cdn/acme/site/img/@moving?w=10")
    assert stale.headers["x-image-id"] == image["id"]
    assert runtime_of(other_app).delivery.outbox.settle_seconds == 600.5


async def test_row_cache_off(keys: Keys, app_with: AppFactory) -> None:
    client, app = await app_with(delivery_metadata_ttl_seconds=0)
    image = await upload(client, keys)
    assert (await client.get(f"/cdn/acme/site/img/{image['id']}?w=10")).status_code == 200
    assert len(runtime_of(app).delivery.rows) == 0


async def test_a_warm_url_is_answered_from_memory_as_the_route_answers_it(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second read of a URL fills the warm replies; later reads need neither the database
    nor the blob store, and carry the route's very bytes and headers."""
    image = await upload(client, keys, alias="@warm")
    runtime = runtime_of(app)
    paths = [
        f"/cdn/acme/site/img/{image['id']}?w=33&format=webp",
        "/cdn/acme/site/img/@warm?w=20&h=20&mode=crop&format=png",
        f"/cdn/acme/site/img/{image['id']}",
    ]
    hits = {}
    for path in paths:
        await client.get(path)  # a render (a miss is never repeated from memory)
        hits[path] = await client.get(path)  # a hit, from the store: remembered
    assert len(_warm(app)) == 3

    async def no_io(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a warm hit reads nothing")

    async with route_only(app) as route:
        routed = {path: await route.get(path) for path in paths}
        monkeypatch.setattr(runtime.blobs, "get", no_io)
        monkeypatch.setattr(runtime.delivery.lookup, "find_image", no_io)
        monkeypatch.setattr(delivery_service, "deliver", no_io)
        for path in paths:
            warm = await client.get(path)
            assert warm.status_code == 200 and warm.content == routed[path].content, path
            # Each response has its own request id (the edge adds it); every other header is
            # the hit's.
            assert warm.headers["x-request-id"] != hits[path].headers["x-request-id"]
            mine = {k: v for k, v in warm.headers.items() if k != "x-request-id"}
            hit = {k: v for k, v in hits[path].headers.items() if k != "x-request-id"}
            assert mine == hit, path
            for name in ("etag", "cache-control", "content-type", "content-length", "vary"):
                assert warm.headers.get(name) == routed[path].headers.get(name), (path, name)


async def test_a_warm_url_is_not_repeated_once_its_image_changes(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys, alias="@soon-gone")
    second = await upload(client, keys)
    by_alias = "/cdn/acme/site/img/@soon-gone?w=30&format=webp"
    by_id = f"/cdn/acme/site/img/{image['id']}?w=30&format=webp"
    for path in (by_alias, by_id, by_alias, by_id):
        assert (await client.get(path)).headers["x-image-id"] == image["id"]
    moved = await client.put(
        f"/api/v1/images/{second['id']}/alias", headers=keys.headers(), json={"alias": "@soon-gone"}
    )
    assert moved.status_code == 200
    assert (await client.get(by_alias)).headers["x-image-id"] == second["id"]
    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert (await client.get(by_id)).status_code == 404


async def test_conditional_head_and_expiring_requests_take_the_full_path(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys)
    path = f"/cdn/acme/site/img/{image['id']}?w=31&format=webp"
    await client.get(path)
    hit = await client.get(path)
    assert len(_warm(app)) == 1
    revalidated = await client.get(path, headers={"If-None-Match": hit.headers["etag"]})
    assert revalidated.status_code == 304
    head = await client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(hit.content))
    # An unsigned URL on a server without a signing key: `exp` is refused, never remembered.
    assert (await client.get(f"{path}&exp=4102444800")).status_code in (200, 400)
    assert len(_warm(app)) == 1


def _warm(app: FastAPI) -> WarmReplies:
    """The warm replies of the app's delivery fast path (the middleware in front of the route)."""
    layer: Any = app.middleware_stack
    while layer is not None and not isinstance(layer, DeliveryFastPath):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, DeliveryFastPath)
    return layer.warm
