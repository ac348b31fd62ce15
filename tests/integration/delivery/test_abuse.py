"""Abuse control: size and DPR limits, the cap on unsigned variants per image, signed URLs
(with expiry) and the mode that refuses unsigned transforms."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from banatie.delivery import signing
from banatie.delivery.models import ImageVariant
from tests.conftest import Keys
from tests.integration.delivery.conftest import AppFactory, decode, runtime_of, upload

KEY = "test-signing-key-0123456789"


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def test_dimension_and_dpr_limits_come_from_settings(
    keys: Keys, app_with: AppFactory
) -> None:
    client, _ = await app_with(max_transform_dimension=500, max_transform_dpr=2.0)
    image = await upload(client, keys)
    base = f"/cdn/acme/site/img/{image['id']}"
    assert (await client.get(f"{base}?w=500")).status_code == 200
    for query, param in (("w=501", "w"), ("h=501", "h"), ("dpr=3", "dpr"), ("w=300&dpr=2", "dpr")):
        response = await client.get(f"{base}?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["details"]["param"] == param
        assert "500" in response.json()["error"]["message"] or param == "dpr"
    assert (await client.get(f"{base}?w=250&dpr=2")).status_code == 200


async def test_unsigned_variants_per_image_are_capped(keys: Keys, app_with: AppFactory) -> None:
    client, app = await app_with(max_variants_per_image=3)
    image = await upload(client, keys)
    other = await upload(client, keys)
    base = f"/cdn/acme/site/img/{image['id']}"
    for w in (10, 11, 12):
        assert (await client.get(f"{base}?w={w}")).status_code == 200
    # The same three again (any spelling, any negotiated format) are fine ...
    assert (await client.get(f"{base}?width=10")).status_code == 200
    assert (await client.get(f"{base}?w=11&format=webp")).status_code == 403  # a new spec
    assert (await client.get(f"{base}?w=12&utm=1")).status_code == 200
    # ... a fourth spec is refused, without a 500 and without caching the refusal.
    refused = await client.get(f"{base}?w=13")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "VARIANT_LIMIT_EXCEEDED"
    assert refused.headers["cache-control"] == "no-store"
    # Presets and srcset widths are Banatie's own URLs: never capped.
    for url in [*image["variants"].values()]:
        assert (await client.get(path_and_query(url))).status_code == 200, url
    for entry in image["srcset"].split(", "):
        assert (await client.get(path_and_query(entry.split(" ")[0]))).status_code == 200
    # The cap is per image.
    assert (await client.get(f"/cdn/acme/site/img/{other['id']}?w=13")).status_code == 200
    async with runtime_of(app).sessionmaker() as session:
        rows = (
            await session.execute(select(ImageVariant).where(ImageVariant.image_id == image["id"]))
        ).scalars()
        counted = {row.spec for row in rows if row.counted}
    assert counted == {"w=10", "w=11", "w=12"}


async def test_signed_urls(keys: Keys, app_with: AppFactory) -> None:
    client, _ = await app_with(delivery_signing_key=KEY, max_variants_per_image=1)
    image = await upload(client, keys)
    path = f"/cdn/acme/site/img/{image['id']}"

    url = signing.signed_url("http://testserver", "acme", "site", image["id"], "w=40", key=KEY)
    assert url.startswith(f"http://testserver{path}?w=40&sig=")
    response = await client.get(path_and_query(url))
    assert response.status_code == 200
    assert decode(response.content).width == 40

    # Signed variants do not count against the cap; unsigned ones still do.
    for w in (41, 42, 43):
        signed = signing.signed_url("http://x", "acme", "site", image["id"], f"w={w}", key=KEY)
        assert (await client.get(path_and_query(signed))).status_code == 200
    assert (await client.get(f"{path}?w=50")).status_code == 200
    assert (await client.get(f"{path}?w=51")).status_code == 403

    # Unknown parameters may be added (CDNs do); transformation parameters may not.
    assert (await client.get(path_and_query(url) + "&utm_source=mail")).status_code == 200
    for tampered in (
        path_and_query(url).replace("w=40", "w=400"),
        path_and_query(url) + "&w=400",
        path_and_query(url) + "&h=10",
        path_and_query(url).replace(image["id"], "@alias"),
        path_and_query(url)[:-2],
    ):
        bad = await client.get(tampered)
        assert bad.status_code == 400, tampered
        assert bad.json()["error"]["details"]["param"] == "sig"
        assert bad.headers["cache-control"] == "no-store"

    # Expiry: valid until then, with a Cache-Control no longer than what is left.
    soon = signing.signed_url(
        "http://x", "acme", "site", image["id"], "w=44", key=KEY, expires_at=time.time() + 120
    )
    fresh = await client.get(path_and_query(soon))
    assert fresh.status_code == 200
    max_age = int(fresh.headers["cache-control"].split("max-age=")[1])
    assert 0 < max_age <= 120
    assert "immutable" not in fresh.headers["cache-control"]
    past = signing.signed_url(
        "http://x", "acme", "site", image["id"], "w=44", key=KEY, expires_at=time.time() - 1
    )
    expired = await client.get(path_and_query(past))
    assert expired.status_code == 400
    assert expired.json()["error"]["details"]["param"] == "exp"
    assert "expired" in expired.json()["error"]["message"]
    # Pushing the expiry forward breaks the signature.
    forged = path_and_query(past).replace(
        f"exp={int(time.time() - 1)}", f"exp={int(time.time()) + 9999}"
    )
    assert (await client.get(forged)).json()["error"]["details"]["param"] == "sig"

    # A signature from another key is a bad signature.
    other = signing.signed_url("http://x", "acme", "site", image["id"], "w=40", key="other")
    assert (await client.get(path_and_query(other))).status_code == 400


async def test_signed_alias_urls(keys: Keys, app_with: AppFactory) -> None:
    client, _ = await app_with(delivery_signing_key=KEY)
    await upload(client, keys, alias="@logo")
    url = signing.signed_url("http://x", "acme", "site", "@logo", "w=30&format=png", key=KEY)
    response = await client.get(path_and_query(url))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"


async def test_sig_on_a_server_without_a_key_is_refused(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    image = await upload(client, keys)
    url = signing.signed_url("http://x", "acme", "site", image["id"], "w=40", key=KEY)
    response = await client.get(path_and_query(url))
    assert response.status_code == 400
    assert response.json()["error"]["details"]["param"] == "sig"


async def test_signed_only_mode(keys: Keys, app_with: AppFactory) -> None:
    client, _ = await app_with(delivery_signing_key=KEY, delivery_require_signature=True)
    image = await upload(client, keys, alias="@x")
    path = f"/cdn/acme/site/img/{image['id']}"
    # Originals stay public; unsigned transforms are refused, naming sig.
    assert (await client.get(path)).status_code == 200
    assert (await client.get("/cdn/acme/site/img/@x")).status_code == 200
    refused = await client.get(f"{path}?w=40")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["param"] == "sig"
    assert refused.headers["cache-control"] == "no-store"
    # Every URL the API hands out is signed and works.
    assert all("sig=" in url for name, url in image["variants"].items() if name != "original")
    for url in image["variants"].values():
        response = await client.get(path_and_query(url), headers={"Accept": "image/webp"})
        assert response.status_code == 200, url
    for entry in image["srcset"].split(", "):
        url, width = entry.split(" ")
        response = await client.get(path_and_query(url))
        assert response.status_code == 200
        assert decode(response.content).width == int(width.removesuffix("w"))


async def test_presets_render_the_promised_size(
    keys: Keys, app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Every preset URL of an image large enough returns exactly the preset's box; on a
    Gemini-sized 1344x768 image the boxes shrink (scale=down never enlarges) keeping their shape."""
    import pyvips

    from banatie.delivery.params import output_size, parse_transform

    big = pyvips.Image.black(2000, 1200, bands=3).linear(1, [40, 90, 160])
    big_png = bytes(big.cast("uchar").pngsave_buffer())
    gemini = pyvips.Image.black(1344, 768, bands=3).linear(1, [10, 200, 30])
    gemini_png = bytes(gemini.cast("uchar").pngsave_buffer())
    promised = {
        "thumbnail": (256, 256),
        "card": (640, 360),
        "hero": (1600, 900),
        "og": (1200, 630),
        "avatar": (128, 128),
    }
    for data, (sw, sh) in ((big_png, (2000, 1200)), (gemini_png, (1344, 768))):
        image = await upload(client, keys, data)
        assert set(image["variants"]) == {*promised, "original"}
        for name, url in image["variants"].items():
            response = await client.get(path_and_query(url), headers={"Accept": "image/webp"})
            assert response.status_code == 200, (name, response.text)
            out = decode(response.content)
            if name == "original":
                assert (out.width, out.height) == (sw, sh)
                continue
            query = dict(p.split("=") for p in urlsplit(url).query.split("&"))
            expected = output_size(parse_transform(query), sw, sh)
            assert (out.width, out.height) == expected, name
            if sw >= 1600:
                assert expected == promised[name], name
            pw, ph = promised[name]
            assert abs(out.width / out.height - pw / ph) < 0.01, name
            mime = "image/jpeg" if name == "og" else "image/webp"
            assert response.headers["content-type"] == mime, name
