"""Transformations on `/cdn/…/img/…`: sizes and formats, negotiation, HTTP caching headers, the
variant cache in the blob store, single-flight, bad input, and variants going with their image."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from banatie.delivery import rendering
from banatie.delivery.transform import render as real_render
from banatie.storage.local import LocalBlobStore
from tests.conftest import Keys
from tests.integration.delivery.conftest import (
    AVIF_ACCEPT,
    WEBP_ACCEPT,
    decode,
    loader,
    runtime_of,
    upload,
)

IMMUTABLE = "public, max-age=31536000, immutable"


def variant_blobs(app: FastAPI, image: dict[str, Any]) -> list[str]:
    store = runtime_of(app).blobs
    assert isinstance(store, LocalBlobStore)
    base = store.root / "acme" / "site" / "img" / image["id"] / "v"
    if not base.exists():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "__blob__").exists())


async def test_resize_crop_and_format(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    image = await upload(client, keys)
    url = f"/cdn/acme/site/img/{image['id']}?w=160&h=160&mode=crop&format=webp"
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["x-variant-cache"] == "miss"
    assert "vary" not in response.headers
    out = decode(response.content)
    assert (out.width, out.height) == (160, 160)
    assert loader(response.content).startswith("webpload")
    assert len(variant_blobs(app, image)) == 1

    again = await client.get(url)
    assert again.headers["x-variant-cache"] == "hit"
    assert again.content == response.content
    assert again.headers["etag"] == response.headers["etag"]


async def test_same_transform_spelled_differently_is_one_variant(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys)
    base = f"/cdn/acme/site/img/{image['id']}"
    first = await client.get(f"{base}?w=100&h=50&mode=crop&format=png")
    assert first.headers["x-variant-cache"] == "miss"
    for query in (
        "format=png&mode=crop&h=50&w=100",
        "WIDTH=100&height=50&MODE=Crop&fmt=png&utm_source=x",
        "w=50&h=25&dpr=2&mode=crop&format=png&scale=down&quality=82",
    ):
        response = await client.get(f"{base}?{query}")
        assert response.status_code == 200, query
        assert response.headers["x-variant-cache"] == "hit", query
        assert response.headers["etag"] == first.headers["etag"]
    assert len(variant_blobs(app, image)) == 1


async def test_format_auto_negotiates_and_varies(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys)
    url = f"/cdn/acme/site/img/{image['id']}?w=120&format=auto"
    expected = {
        AVIF_ACCEPT: ("image/avif", "heifload"),
        WEBP_ACCEPT: ("image/webp", "webpload"),
        "image/png,*/*": ("image/jpeg", "jpegload"),
        "*/*": ("image/jpeg", "jpegload"),
    }
    etags = set()
    for accept, (mime, vips_loader) in expected.items():
        response = await client.get(url, headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"] == mime
        assert response.headers["vary"] == "Accept"
        assert loader(response.content).startswith(vips_loader)
        etags.add(response.headers["etag"])
        head = await client.head(url, headers={"Accept": accept})
        assert head.headers["vary"] == "Accept"
        assert head.headers["content-type"] == mime
    assert len(etags) == 3  # jpeg twice
    # format=auto for a WebP browser and format=webp are the same bytes: one blob.
    explicit = await client.get(f"/cdn/acme/site/img/{image['id']}?w=120&format=webp")
    assert explicit.headers["x-variant-cache"] == "hit"
    assert "vary" not in explicit.headers
    assert len(variant_blobs(app, image)) == 3


async def test_conditional_requests_and_head(client: httpx.AsyncClient, keys: Keys) -> None:
    image = await upload(client, keys)
    url = f"/cdn/acme/site/img/{image['id']}?w=90&format=jpeg"
    head_first = await client.head(url)  # a HEAD can be the first request: renders it
    assert head_first.status_code == 200 and head_first.content == b""
    assert head_first.headers["x-variant-cache"] == "miss"
    got = await client.get(url)
    assert got.headers["x-variant-cache"] == "hit"
    assert head_first.headers["content-length"] == str(len(got.content))
    assert head_first.headers["etag"] == got.headers["etag"]
    head_hit = await client.head(url)
    assert head_hit.headers["content-length"] == str(len(got.content))
    assert head_hit.headers["x-variant-cache"] == "hit"

    etag = got.headers["etag"]
    for value in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        not_modified = await client.get(url, headers={"If-None-Match": value})
        assert not_modified.status_code == 304, value
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert not_modified.headers["cache-control"] == IMMUTABLE
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200

    last_modified = parsedate_to_datetime(got.headers["last-modified"])
    later = format_datetime(last_modified + timedelta(seconds=5), usegmt=True)
    earlier = format_datetime(last_modified - timedelta(days=1), usegmt=True)
    assert (await client.get(url, headers={"If-Modified-Since": later})).status_code == 304
    assert (await client.get(url, headers={"If-Modified-Since": earlier})).status_code == 200
    assert (await client.get(url, headers={"If-Modified-Since": "garbage"})).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    both = await client.get(url, headers={"If-None-Match": '"x"', "If-Modified-Since": later})
    assert both.status_code == 200


async def test_variant_etag_differs_from_original_and_by_variant(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    image = await upload(client, keys)
    base = f"/cdn/acme/site/img/{image['id']}"
    original = await client.get(base)
    small = await client.get(f"{base}?w=50")
    smaller = await client.get(f"{base}?w=40")
    tags = {original.headers["etag"], small.headers["etag"], smaller.headers["etag"]}
    assert len(tags) == 3
    # A variant's ETag does not validate the original, nor the other way round.
    assert (
        await client.get(base, headers={"If-None-Match": small.headers["etag"]})
    ).status_code == 200
    assert (
        await client.get(f"{base}?w=50", headers={"If-None-Match": original.headers["etag"]})
    ).status_code == 200


async def test_by_alias_is_cached_briefly(client: httpx.AsyncClient, keys: Keys) -> None:
    await upload(client, keys, alias="@hero")
    response = await client.get("/cdn/acme/site/img/@hero?w=64&format=png")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    assert "bnt-alias-acme/site/@hero" in response.headers["cache-tag"]
    # If-Modified-Since is not trusted for alias URLs (the alias can move to an older image).
    future = format_datetime(
        parsedate_to_datetime(response.headers["last-modified"]) + timedelta(days=1), usegmt=True
    )
    again = await client.get(
        "/cdn/acme/site/img/@hero?w=64&format=png", headers={"If-Modified-Since": future}
    )
    assert again.status_code == 200


async def test_unknown_parameters_are_ignored(client: httpx.AsyncClient, keys: Keys) -> None:
    image = await upload(client, keys)
    base = f"/cdn/acme/site/img/{image['id']}"
    original = await client.get(f"{base}?utm_source=news&cf_cache=1&v=3")
    assert original.status_code == 200
    assert "x-variant-cache" not in original.headers  # still the original bytes
    assert original.content == (await client.get(base)).content


BAD_INPUT = [
    ("w=0", "w"),
    ("w=-5", "w"),
    ("w=100000", "w"),
    ("h=abc", "h"),
    ("dpr=9", "dpr"),
    ("w=100&dpr=0.5", "dpr"),
    ("quality=0", "quality"),
    ("quality=101", "quality"),
    ("mode=zoom", "mode"),
    ("scale=up", "scale"),
    ("anchor=middle", "anchor"),
    ("c.gravity=abc", "c.gravity"),
    ("c.gravity=50,150", "c.gravity"),
    ("format=bmp", "format"),
    ("bgcolor=nothex", "bgcolor"),
    ("w=10&width=20", "width"),
    ("sig=abc", "sig"),
    ("w=10&exp=1&sig=abc", "sig"),
    ("w=10&exp=2000000000", "exp"),
]


@pytest.mark.parametrize(("query", "param"), BAD_INPUT)
async def test_bad_input_is_a_400_naming_the_parameter(
    client: httpx.AsyncClient, keys: Keys, query: str, param: str
) -> None:
    image = await upload(client, keys)
    for ref in (image["id"], "@nothing"):  # checked before the image is even looked up
        response = await client.get(f"/cdn/acme/site/img/{ref}?{query}")
        assert response.status_code == 400, (query, response.text)
        assert response.headers["cache-control"] == "no-store"
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["param"] == param
        assert param in error["message"]
    head = await client.head(f"/cdn/acme/site/img/{image['id']}?{query}")
    assert head.status_code == 400


async def test_missing_images_are_404_with_or_without_transform(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    for path in (
        "/cdn/acme/site/img/00000000-0000-0000-0000-000000000000?w=100",
        "/cdn/acme/site/img/@nothing?w=100&format=auto",
        "/cdn/acme/nope/img/@x?w=10",
        "/cdn/nobody/site/img/00000000-0000-0000-0000-000000000000?w=10",
        "/cdn/acme/site/img/not-an-id?w=10",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["error"]["code"].endswith("NOT_FOUND")
    assert (await client.get("/cdn/acme/nope/img/@x?w=10")).json()["error"][
        "code"
    ] == "PROJECT_NOT_FOUND"


async def test_concurrent_identical_misses_render_once(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = await upload(client, keys)
    calls = 0

    def counting_render(*args: Any, **kwargs: Any) -> bytes:
        nonlocal calls
        calls += 1
        return real_render(*args, **kwargs)

    monkeypatch.setattr(rendering, "render", counting_render)
    url = f"/cdn/acme/site/img/{image['id']}?w=150&h=100&mode=pad&format=png"
    responses = await asyncio.gather(*(client.get(url) for _ in range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert calls == 1
    states = sorted(r.headers["x-variant-cache"] for r in responses)
    assert states.count("miss") == 1
    assert set(states) <= {"miss", "coalesced", "hit"}
    assert len(runtime_of(app).delivery.flights) == 0
    # A different variant is a different flight.
    await client.get(url.replace("w=150", "w=151"))
    assert calls == 2


async def test_failed_transform_leaves_no_variant_and_no_500(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys)
    runtime = runtime_of(app)
    # The stored original goes bad (disk corruption, a bad migration...).
    await runtime.blobs.put(image["storageUrl"].split("/cdn/")[1], b"\x89PNG garbage", "image/png")
    response = await client.get(f"/cdn/acme/site/img/{image['id']}?w=50&format=webp")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "TRANSFORM_FAILED"
    assert response.headers["cache-control"] == "no-store"
    assert variant_blobs(app, image) == []
    store = runtime.blobs
    assert isinstance(store, LocalBlobStore)
    assert not (store.root / "acme" / "site" / "img" / image["id"] / "d").exists()
    assert len(runtime.delivery.flights) == 0


async def test_hit_does_not_touch_the_database_for_writes_or_decode(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = await upload(client, keys)
    url = f"/cdn/acme/site/img/{image['id']}?w=70&format=webp"
    assert (await client.get(url)).headers["x-variant-cache"] == "miss"

    def no_render(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("a hit must not decode or render")

    async def no_record(*args: Any, **kwargs: Any) -> bool:
        raise AssertionError("a hit must not write to the database")

    monkeypatch.setattr(rendering, "render", no_render)
    lookup = runtime_of(app).delivery.lookup
    for write in ("reserve_variant", "finish_variant", "release_variant", "record_decoded"):
        monkeypatch.setattr(lookup, write, no_record)
    hit = await client.get(url)
    assert hit.status_code == 200 and hit.headers["x-variant-cache"] == "hit"


async def test_deleting_an_image_deletes_its_variants(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys, alias="@gone")
    other = await upload(client, keys)
    for query in ("w=30", "w=40&format=webp", "w=50&h=50&mode=crop"):
        assert (await client.get(f"/cdn/acme/site/img/{image['id']}?{query}")).status_code == 200
    await client.get(f"/cdn/acme/site/img/{other['id']}?w=30")
    assert len(variant_blobs(app, image)) == 3
    deleted = await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert deleted.status_code == 200
    assert variant_blobs(app, image) == []
    assert len(variant_blobs(app, other)) == 1
    assert (await client.get(f"/cdn/acme/site/img/{image['id']}?w=30")).status_code == 404


def column_colours(data: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Colours at the middle of the top quarter and of the bottom quarter."""
    image = decode(data)
    x = image.width // 2
    top = image.getpoint(x, image.height // 4)
    bottom = image.getpoint(x, image.height * 3 // 4)
    return tuple(round(v) for v in top[:3]), tuple(round(v) for v in bottom[:3])


RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


async def test_crop_follows_the_focal_point(client: httpx.AsyncClient, keys: Keys) -> None:
    image = await upload(client, keys)  # 320x180: red TL, green TR, blue BL, white BR
    base = f"/cdn/acme/site/img/{image['id']}"
    crop = f"{base}?w=20&h=60&mode=crop&format=png"  # a tall strip: the focal x decides
    await client.put(
        f"/api/v1/images/{image['id']}",
        headers=keys.headers(),
        json={"focalPoint": {"x": 0.95, "y": 0.95}},
    )
    right = await client.get(crop)
    assert column_colours(right.content) == (GREEN, WHITE)
    # Moving the focal point makes a new crop (new variant, new ETag) ...
    await client.put(
        f"/api/v1/images/{image['id']}",
        headers=keys.headers(),
        json={"focalPoint": {"x": 0.05, "y": 0.05}},
    )
    left = await client.get(crop)
    assert left.headers["x-variant-cache"] == "miss"
    assert left.headers["etag"] != right.headers["etag"]
    assert column_colours(left.content) == (RED, BLUE)
    # ... while gravity and anchor override it.
    gravity = await client.get(f"{base}?w=20&h=60&mode=crop&c.gravity=100,0&format=png")
    assert column_colours(gravity.content) == (GREEN, WHITE)
    anchor = await client.get(f"{base}?w=20&h=60&mode=crop&anchor=bottomright&format=png")
    assert column_colours(anchor.content) == (GREEN, WHITE)
    # A non-crop variant is not re-rendered when the focal point moves.
    assert (await client.get(f"{base}?w=80&format=png")).status_code == 200
    await client.put(
        f"/api/v1/images/{image['id']}",
        headers=keys.headers(),
        json={"focalPoint": {"x": 0.5, "y": 0.5}},
    )
    assert (await client.get(f"{base}?w=80&format=png")).headers["x-variant-cache"] == "hit"
    assert (await client.get(anchor.request.url)).headers["x-variant-cache"] == "hit"


async def test_output_strips_metadata(client: httpx.AsyncClient, keys: Keys) -> None:
    import pyvips

    from tests.integration.delivery.conftest import quadrants_png

    tagged = pyvips.Image.new_from_buffer(quadrants_png(), "").copy()
    tagged.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "somebody")
    jpeg = bytes(tagged.jpegsave_buffer(Q=90))
    image = await upload(client, keys, jpeg)
    response = await client.get(f"/cdn/acme/site/img/{image['id']}?w=100&format=jpeg")
    out = decode(response.content)
    for name in ("exif-data", "xmp-data", "iptc-data", "icc-profile-data"):
        assert not out.get_typeof(name), name
