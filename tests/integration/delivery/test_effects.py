"""The effects over HTTP (`/cdn/…/img/…?rotate=90`, `blur`, `watermark=@logo`, …): each is a
variant like any other (cached, capped, signed), presets by name, strict mode, and the fast path
serving a cached effect exactly as the FastAPI route does."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import httpx
import numpy as np
import pytest
import pyvips
from fastapi import FastAPI

from banatie.delivery import signing
from tests.conftest import Keys
from tests.integration.delivery.conftest import (
    AppFactory,
    decode,
    quadrants_png,
    route_only,
    upload,
)

KEY = "effects-signing-key"
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@cache
def magenta_png(size: int = 40) -> bytes:
    array = np.zeros((size, size, 4), dtype=np.uint8)
    array[:, :] = (255, 0, 255, 255)
    return bytes(pyvips.Image.new_from_array(array).copy(interpretation="srgb").pngsave_buffer())


@cache
def framed_png() -> bytes:
    """The quadrants inside a 20 px light grey frame (360x220)."""
    inner = pyvips.Image.new_from_buffer(quadrants_png(), "")
    framed = inner.embed(20, 20, 360, 220, extend="background", background=[240, 240, 240])
    return bytes(framed.pngsave_buffer())


def at(image: pyvips.Image, x: int, y: int) -> tuple[int, ...]:
    return tuple(round(v) for v in image.getpoint(x, y)[:3])


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 10) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


Check = Callable[[pyvips.Image], bool]

# Query -> what a user sees in the PNG (the source is 320x180 quadrants: red, green / blue, white).
CASES: dict[str, Check] = {
    "rotate=90": lambda im: (im.width, im.height) == (180, 320) and near(at(im, 2, 2), BLUE),
    "srotate=270&w=90": lambda im: (im.width, im.height) == (90, 160) and near(at(im, 1, 1), GREEN),
    "flip=h": lambda im: near(at(im, 2, 2), GREEN) and near(at(im, 317, 177), BLUE),
    "flip=v": lambda im: near(at(im, 2, 2), BLUE),
    "f.sharpen=40": lambda im: (im.width, im.height) == (320, 180),
    "blur=4": lambda im: not near(at(im, 160, 45), RED, 40) and near(at(im, 5, 5), RED),
    "s.saturation=-1": lambda im: len(set(at(im, 5, 5))) == 1,
    "s.brightness=0.5": lambda im: near(at(im, 5, 170), (128, 128, 255)),
    "s.contrast=-1": lambda im: near(at(im, 5, 5), (128, 128, 128), 2),
    "watermark=@wm&watermark.position=topleft": lambda im: near(at(im, 20, 20), (255, 0, 255)),
}


@pytest.mark.parametrize("query", list(CASES))
async def test_each_effect_is_a_cached_variant(
    client: httpx.AsyncClient, keys: Keys, query: str
) -> None:
    image = await upload(client, keys)
    await upload(client, keys, magenta_png(), alias="@wm")
    url = f"/cdn/acme/site/img/{image['id']}?{query}&format=png"
    first = await client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["x-variant-cache"] == "miss"
    assert CASES[query](decode(first.content)), query
    again = await client.get(url)
    assert again.headers["x-variant-cache"] == "hit"
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    plain = await client.get(f"/cdn/acme/site/img/{image['id']}?format=png&w=320")
    assert plain.headers["etag"] != first.headers["etag"]


async def test_trim_removes_the_frame(client: httpx.AsyncClient, keys: Keys) -> None:
    image = await upload(client, keys, framed_png())
    response = await client.get(f"/cdn/acme/site/img/{image['id']}?trim.threshold=10&format=png")
    assert response.status_code == 200, response.text
    out = decode(response.content)
    assert (out.width, out.height) == (320, 180)
    assert near(at(out, 0, 0), RED)


async def test_bad_effect_values_are_a_400_naming_them(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    image = await upload(client, keys)
    for query, param in [
        ("rotate=45", "rotate"),
        ("blur=999", "blur"),
        ("s.saturation=2", "s.saturation"),
        ("watermark=@nothing", "watermark"),
        ("preset=nope", "preset"),
    ]:
        response = await client.get(f"/cdn/acme/site/img/{image['id']}?{query}")
        assert response.status_code == 400, query
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["param"] == param, query


async def test_strict_refuses_unknown_parameters(client: httpx.AsyncClient, keys: Keys) -> None:
    image = await upload(client, keys)
    path = f"/cdn/acme/site/img/{image['id']}"
    lenient = await client.get(f"{path}?w=40&wdith=50&rotatee=90")
    assert lenient.status_code == 200
    strict = await client.get(f"{path}?w=40&wdith=50&rotatee=90&strict=true")
    assert strict.status_code == 400
    error = strict.json()["error"]
    assert error["code"] == "UNKNOWN_PARAMETER"
    assert error["details"]["params"] == ["rotatee", "wdith"]
    assert "wdith" in error["message"]
    assert (await client.get(f"{path}?w=40&strict=true")).status_code == 200


async def test_effects_count_against_the_variant_cap(keys: Keys, app_with: AppFactory) -> None:
    client, _ = await app_with(max_variants_per_image=2)
    image = await upload(client, keys)
    path = f"/cdn/acme/site/img/{image['id']}"
    assert (await client.get(f"{path}?blur=1")).status_code == 200
    assert (await client.get(f"{path}?rotate=90")).status_code == 200
    refused = await client.get(f"{path}?flip=h")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "VARIANT_LIMIT_EXCEEDED"
    # A preset by name is a published variant: free of the cap.
    assert (await client.get(f"{path}?preset=thumbnail")).status_code == 200


async def test_presets_by_name_and_signed_only_servers(keys: Keys, app_with: AppFactory) -> None:
    client, _ = await app_with(delivery_signing_key=KEY, delivery_require_signature=True)
    image = await upload(client, keys)
    path = f"/cdn/acme/site/img/{image['id']}"
    card = await client.get(f"{path}?preset=card&format=png")
    assert card.status_code == 400  # only preset=name is allowed unsigned, nothing next to it
    card = await client.get(f"{path}?preset=card", headers={"Accept": "image/webp"})
    assert card.status_code == 200, card.text
    assert (decode(card.content).width, decode(card.content).height) == (320, 180)  # never enlarged
    assert card.headers["content-type"] == "image/webp"
    # The same variant as the signed URL the API hands out for it.
    signed = await client.get(
        image["variants"]["card"].removeprefix("http://testserver"),
        headers={"Accept": "image/webp"},
    )
    assert signed.status_code == 200
    assert signed.headers["etag"] == card.headers["etag"]
    # Effects need a signature; a signed effect is served.
    unsigned = await client.get(f"{path}?rotate=90")
    assert unsigned.status_code == 400
    assert unsigned.json()["error"]["details"]["param"] == "sig"
    url = signing.signed_url("", "acme", "site", image["id"], "rotate=90&format=png", key=KEY)
    turned = await client.get(url)
    assert turned.status_code == 200, turned.text
    assert (decode(turned.content).width, decode(turned.content).height) == (180, 320)
    # Adding an effect to a signed URL breaks its signature.
    assert (await client.get(url + "&blur=3")).status_code == 400


async def test_a_new_watermark_image_makes_a_new_variant(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    image = await upload(client, keys)
    first_logo = await upload(client, keys, magenta_png(), alias="@brand")
    url = f"/cdn/acme/site/img/{image['id']}?watermark=@brand&format=png"
    first = await client.get(url)
    assert first.status_code == 200
    deleted = await client.delete(f"/api/v1/images/{first_logo['id']}", headers=keys.headers())
    assert deleted.status_code in (200, 204), deleted.text
    await upload(client, keys, magenta_png(30), alias="@brand")
    second = await client.get(url)
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]


async def test_fast_path_serves_a_cached_effect_like_the_route(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    image = await upload(client, keys)
    await upload(client, keys, magenta_png(), alias="@mark")
    async with route_only(app) as route:
        for query in (
            "rotate=90&blur=1&format=webp",
            "preset=avatar&format=png",
            "watermark=@mark&s.saturation=-0.5&format=jpeg",
        ):
            path = f"/cdn/acme/site/img/{image['id']}?{query}"
            warm = await client.get(path)
            assert warm.status_code == 200, warm.text
            for method in ("GET", "HEAD"):
                fast = await client.request(method, path)
                slow = await route.request(method, path)
                assert fast.status_code == slow.status_code == 200, path
                assert fast.headers["x-variant-cache"] == slow.headers["x-variant-cache"] == "hit"
                assert fast.content == slow.content, path
                if method == "GET":
                    assert fast.content == warm.content
                for name in ("etag", "cache-control", "content-type", "content-length", "vary"):
                    assert fast.headers.get(name) == slow.headers.get(name), (path, name)
