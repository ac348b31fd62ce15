"""Amplification: what delivery derives from an image (variants, decoded pixels) is counted
against the project's storage and shown in `/usage`; the decoded-pixel cache is bounded; the
cap on unsigned variants holds under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import numpy as np
import pyvips
from sqlalchemy import func, select

from banatie.delivery.models import ImageVariant
from banatie.storage.local import LocalBlobStore
from tests.conftest import Keys
from tests.integration.delivery.conftest import AppFactory, runtime_of, upload


def flat_png(width: int, height: int) -> bytes:
    """Compresses to almost nothing, decodes to width * height * 3 bytes."""
    image = pyvips.Image.black(width, height, bands=3).linear(1, [30, 120, 200]).cast("uchar")
    return bytes(image.copy(interpretation="srgb").pngsave_buffer(compression=9))


def noise_png(width: int, height: int) -> bytes:
    """Does not compress: the PNG (and a PNG variant of it) is about width * height * 3 bytes."""
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return bytes(pyvips.Image.new_from_array(pixels).copy(interpretation="srgb").pngsave_buffer())


async def usage(client: httpx.AsyncClient, keys: Keys) -> dict[str, Any]:
    response = await client.get("/api/v1/usage", headers=keys.headers())
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def decoded_blob_exists(app: Any, image: dict[str, Any]) -> bool:
    store = runtime_of(app).blobs
    assert isinstance(store, LocalBlobStore)
    return (store.root / "acme" / "site" / "img" / str(image["id"]) / "d").exists()


async def two_variants(client: httpx.AsyncClient, image: dict[str, Any]) -> None:
    """An image's decoded pixels are made, if at all, by its second variant."""
    for width in (20, 21):
        assert (await client.get(f"/cdn/acme/site/img/{image['id']}?w={width}")).status_code == 200


async def test_derived_bytes_count_against_storage_and_show_in_usage(
    keys: Keys, app_with: AppFactory
) -> None:
    client, app = await app_with()
    source = flat_png(2048, 2048)
    image = await upload(client, keys, source)
    before = await usage(client, keys)
    assert before["storageUsedBytes"] == len(source) < 100_000
    assert before["storageDerivedBytes"] == 0

    # One anonymous thumbnail: the variant is stored.
    first = await client.get(f"/cdn/acme/site/img/{image['id']}?w=10")
    assert first.status_code == 200
    assert (await usage(client, keys))["storageDerivedBytes"] == len(first.content)
    assert not decoded_blob_exists(app, image)
    # A second: that variant and the decoded pixels (12.6 MB) for every later one.
    second = await client.get(f"/cdn/acme/site/img/{image['id']}?w=11")
    assert second.status_code == 200
    after = await usage(client, keys)
    decoded = 2048 * 2048 * 3
    assert decoded_blob_exists(app, image)
    assert after["storageDerivedBytes"] >= decoded + len(first.content) + len(second.content)
    assert after["storageUsedBytes"] == len(source) + after["storageDerivedBytes"]

    # Deleting the image gives all of it back.
    deleted = await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert deleted.status_code == 200
    final = await usage(client, keys)
    assert final["storageUsedBytes"] == 0 and final["storageDerivedBytes"] == 0


async def test_derived_bytes_fill_the_storage_limit_like_uploads(
    keys: Keys, app_with: AppFactory
) -> None:
    client, _ = await app_with(free_storage_mb=2)
    source = noise_png(640, 640)  # ~1.2 MB that no compression shrinks
    image = await upload(client, keys, source)
    # A same-size PNG variant is another ~1.2 MB: together past the 2 MB of the plan.
    variant = await client.get(f"/cdn/acme/site/img/{image['id']}?w=639&format=png")
    assert variant.status_code == 200
    assert len(source) + len(variant.content) > 2 * 1024 * 1024
    refused = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("b.png", flat_png(8, 8), "image/png")},
    )
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert refused.json()["error"]["details"]["limit"] == "storage"


async def test_the_decoded_pixel_cache_is_bounded(keys: Keys, app_with: AppFactory) -> None:
    # By the setting: no decoded copies at all; variants still render, from the original.
    client, app = await app_with(decoded_cache_max_pixels=0)
    image = await upload(client, keys, flat_png(256, 256))
    await two_variants(client, image)
    assert not decoded_blob_exists(app, image)
    # ... by size: a source above the setting's pixels is not kept decoded ...
    client, app = await app_with(decoded_cache_max_pixels=100 * 100)
    small, large = flat_png(100, 100), flat_png(101, 100)
    for data, kept in ((small, True), (large, False)):
        image = await upload(client, keys, data)
        await two_variants(client, image)
        assert decoded_blob_exists(app, image) is kept
    # ... and by the project's storage: a copy that would not fit under the limit is not made.
    client, app = await app_with(free_storage_mb=1)
    image = await upload(client, keys, flat_png(1024, 1024))  # decodes to 3 MB
    await two_variants(client, image)
    assert not decoded_blob_exists(app, image)
    assert (await usage(client, keys))["storageUsedBytes"] < 1024 * 1024


async def test_concurrent_distinct_variants_never_pass_the_cap(
    keys: Keys, app_with: AppFactory
) -> None:
    client, app = await app_with(max_variants_per_image=50)
    image = await upload(client, keys, flat_png(120, 90))
    base = f"/cdn/acme/site/img/{image['id']}"
    responses = await asyncio.gather(*(client.get(f"{base}?w={w}") for w in range(1, 81)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) == {200, 403}, statuses
    assert statuses.count(200) == 50
    async with runtime_of(app).sessionmaker() as session:
        stored = await session.scalar(
            select(func.count(func.distinct(ImageVariant.spec))).where(
                ImageVariant.image_id == image["id"], ImageVariant.counted.is_(True)
            )
        )
    assert stored == 50
    # Every refused one stays refused; every served one is still served.
    for response, w in zip(responses, range(1, 81), strict=True):
        again = await client.get(f"{base}?w={w}")
        assert again.status_code == response.status_code, w
