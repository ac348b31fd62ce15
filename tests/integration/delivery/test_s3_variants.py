"""The variant cache on the S3 blob store (moto's server over real HTTP): variants are stored
under `{key}/v/…`, served from there, and deleted with their image."""

from __future__ import annotations

from banatie.storage.s3 import S3BlobStore
from tests.conftest import Keys
from tests.integration.delivery.conftest import AppFactory, decode, runtime_of, upload
from tests.support.s3_server import s3_storage_url, unique_bucket_name


def keys_in(store: S3BlobStore, prefix: str) -> list[str]:
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=prefix)
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


async def test_variants_on_s3(keys: Keys, app_with: AppFactory, s3_endpoint: str) -> None:
    client, app = await app_with(storage_url=s3_storage_url(s3_endpoint, unique_bucket_name()))
    store = runtime_of(app).blobs
    assert isinstance(store, S3BlobStore)
    image = await upload(client, keys)
    key = f"acme/site/img/{image['id']}"
    url = f"/cdn/acme/site/img/{image['id']}?w=64&h=64&mode=crop&format=webp"

    miss = await client.get(url)
    assert miss.status_code == 200 and miss.headers["x-variant-cache"] == "miss"
    assert (decode(miss.content).width, decode(miss.content).height) == (64, 64)
    stored = keys_in(store, key)
    [variant] = [k for k in stored if k.startswith(f"{key}/v/")]
    assert len(stored) == 2  # the original and the variant: a first variant keeps nothing else
    info = await store.head(variant)
    assert info is not None and info.content_type == "image/webp"
    second = await client.get(f"/cdn/acme/site/img/{image['id']}?w=32")
    assert second.status_code == 200
    # The PNG, decoded once by its second variant for every later one.
    assert f"{key}/d/pixels-v1" in keys_in(store, key)

    hit = await client.get(url)
    assert hit.headers["x-variant-cache"] == "hit" and hit.content == miss.content
    head = await client.head(url)
    assert head.headers["content-length"] == str(len(miss.content))

    await client.delete(f"/api/v1/images/{image['id']}", headers=keys.headers())
    assert keys_in(store, key) == []
