"""Transforms of extreme shapes: sources like 1x40000, outputs past an encoder's limit (AVIF
16384, WebP 16383 pixels a side), one-sided boxes that enlarge a thin image. Each is a 400 naming
the parameter, or (when the server picked the format) a format that can encode it; never a 5xx
or a 422 carrying libvips' words."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import pyvips
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from banatie.delivery.params import check_output_size, parse_transform
from tests.conftest import Keys
from tests.integration.delivery.conftest import AVIF_ACCEPT, AppFactory, decode, loader, upload

CHROME_AVIF = "image/avif,image/webp,image/apng,*/*;q=0.8"


@cache
def striped_png(width: int, height: int, *, alpha: bool = False) -> bytes:
    image = pyvips.Image.xyz(width, height)[0].linear(1, 0) % 256
    image = image.bandjoin([image, 255 - image]).cast("uchar").copy(interpretation="srgb")
    if alpha:
        image = image.bandjoin(128).cast("uchar")
    return bytes(image.pngsave_buffer())


@cache
def wide_jpeg() -> bytes:
    image = pyvips.Image.black(17000, 3, bands=3).linear(1, [200, 40, 40]).cast("uchar")
    return bytes(image.jpegsave_buffer())


async def _uploads(client: httpx.AsyncClient, keys: Keys) -> dict[str, dict[str, Any]]:
    sources = {
        "tall": striped_png(1, 40000),
        "wide": striped_png(40000, 1),
        "wide-jpeg": wide_jpeg(),
        "small-alpha": striped_png(48, 32, alpha=True),
    }
    return {name: await upload(client, keys, data) for name, data in sources.items()}


async def test_the_reported_shapes_are_clear(keys: Keys, app_with: AppFactory) -> None:
    client, _ = await app_with()  # the default limits: 4096 a side
    images = await _uploads(client, keys)
    tall = f"/cdn/acme/site/img/{images['tall']['id']}"
    wide = f"/cdn/acme/site/img/{images['wide-jpeg']['id']}"

    # A one-sided box that enlarges a 1x40000 image: 4096 x 163840000 pixels asked for.
    for query, param in (("w=4096&scale=both", "w"), ("w=100&scale=canvas", "w"), ("h=40000", "h")):
        response = await client.get(f"{tall}?{query}")
        assert response.status_code == 400, (query, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["param"] == param
        assert "vips" not in error["message"]

    # format=auto for a browser that takes AVIF: past AVIF's 16384 it is the next it takes.
    response = await client.get(f"{wide}?w=1&format=auto", headers={"Accept": CHROME_AVIF})
    assert response.status_code == 200  # 1x1: AVIF can
    assert response.headers["content-type"] == "image/avif"
    response = await client.get(f"{wide}?format=auto&quality=70", headers={"Accept": CHROME_AVIF})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"  # 17000 px: past WebP too
    assert (decode(response.content).width, decode(response.content).height) == (17000, 3)
    assert response.headers["vary"] == "Accept"
    response = await client.get(f"{tall}?format=auto&w=1", headers={"Accept": AVIF_ACCEPT})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert loader(response.content).startswith("jpegload")

    # Asked for by name, a format that cannot encode the size is the client's to change.
    for fmt in ("avif", "webp"):
        response = await client.get(f"{wide}?format={fmt}")
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["details"]["param"] == "format"
        assert "17000x3" in error["message"]
        assert response.headers["cache-control"] == "no-store"
    # What it can encode is served, and so is the same image made small enough.
    assert (await client.get(f"{wide}?format=png")).status_code == 200
    response = await client.get(f"{wide}?format=avif&w=4096")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/avif"


def _mostly(valid: st.SearchStrategy[str], *bad: str) -> st.SearchStrategy[str]:
    """Valid values nine times in ten, so that most cases reach the renderer."""
    return st.one_of(*[valid] * 9, st.sampled_from(bad))


_SIZE = st.integers(1, 90).map(str)
_PARAM_VALUES: dict[str, st.SearchStrategy[str]] = {
    "w": _mostly(_SIZE, "0", "-1", "40000", "1e3", "", "x"),
    "h": _mostly(_SIZE, "0", "40000", "9" * 30),
    "mode": _mostly(st.sampled_from(["max", "pad", "crop", "stretch"]), "fill", ""),
    "scale": _mostly(st.sampled_from(["down", "both", "canvas", "upscalecanvas"]), "up"),
    "anchor": _mostly(st.sampled_from(["topleft", "bottomright", "middlecenter"]), "nowhere"),
    "c.gravity": _mostly(st.sampled_from(["50,50", "0,100", "100,0"]), "101,5", "nan,1", "1"),
    "dpr": _mostly(st.sampled_from(["1", "2", "1.5x", "4"]), "5", "0", "inf"),
    "format": _mostly(st.sampled_from(["auto", "avif", "webp", "jpeg", "jpg", "png"]), "gif", ""),
    "quality": _mostly(st.sampled_from(["1", "55", "100"]), "0", "101", "-1"),
    "bgcolor": _mostly(st.sampled_from(["fff", "00000000", "red", "#12345678"]), "nope"),
}
_ACCEPTS = st.sampled_from([None, CHROME_AVIF, "image/webp,*/*", "*/*", "image/avif;q=0"])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_any_transform_of_any_shape_is_an_image_or_a_400(
    keys: Keys, app_with: AppFactory
) -> None:
    """Whatever the parameters, Accept and source shape: 200 with an image of the size and type
    promised, or a 400 whose details name one of the parameters sent."""
    # A small box keeps every render cheap; the sources are far past it and past the encoders.
    client, _ = await app_with(max_transform_dimension=64, max_variants_per_image=0)
    images = await _uploads(client, keys)
    shapes = {name: (image["width"], image["height"]) for name, image in images.items()}
    seen: dict[int, int] = {}

    @given(
        source=st.sampled_from(sorted(images)),
        params=st.dictionaries(
            st.sampled_from(sorted(_PARAM_VALUES)), st.just(""), max_size=4
        ).flatmap(lambda keys_: st.fixed_dictionaries({k: _PARAM_VALUES[k] for k in keys_})),
        accept=_ACCEPTS,
    )
    # The shapes that were a 422 with libvips' words, whatever hypothesis draws besides.
    @example(source="wide", params={"format": "webp"}, accept=None)
    @example(source="tall", params={"format": "auto"}, accept=CHROME_AVIF)
    @example(source="tall", params={"w": "60", "scale": "both"}, accept=None)
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def case(source: str, params: dict[str, str], accept: str | None) -> None:
        url = f"/cdn/acme/site/img/{images[source]['id']}?{urlencode(params)}"
        headers = {"Accept": accept} if accept else {}
        # Hypothesis drives a plain function in a thread; the request runs on the test's loop.
        response = asyncio.run_coroutine_threadsafe(client.get(url, headers=headers), loop).result()
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400), (url, accept, response.text)
        if response.status_code == 400:
            error = response.json()["error"]
            assert error["code"] == "VALIDATION_ERROR"
            assert error["details"]["param"] in {*params, "width", "height", "fmt"}, error
            assert "vips" not in error["message"].lower()
            return
        out = decode(response.content)
        spec = parse_transform(params, max_dimension=64)
        expected = check_output_size(spec, *shapes[source], max_dimension=64)
        assert (out.width, out.height) == expected, (url, accept)
        kind = response.headers["content-type"].removeprefix("image/")
        assert loader(response.content).startswith("heif" if kind == "avif" else kind)
        if params.get("format") in ("avif", "webp", "jpeg", "png"):
            assert kind == params["format"]

    loop = asyncio.get_running_loop()
    await asyncio.to_thread(case)
    # Both outcomes were exercised, not only refusals.
    assert seen.get(200, 0) > 10 and seen.get(400, 0) > 10, seen
    print("SEEN", seen)
