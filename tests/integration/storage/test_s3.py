"""What only S3BlobStore does (batches, buckets, credentials), against a real moto S3 server over
HTTP, and the s3:// side of open_blob_store; the contract every store keeps is test_conformance.py."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from botocore.exceptions import ClientError

from banatie.storage.base import BlobInfo
from banatie.storage.factory import open_blob_store
from banatie.storage.s3 import S3BlobStore
from tests.support.s3_server import s3_storage_url, unique_bucket_name

KEY = "org/proj/img/0123456789"
VARIANT = f"{KEY}/v/abcdef"


def list_keys(store: S3BlobStore) -> list[str]:
    response = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(obj["Key"] for obj in response.get("Contents", []))


async def test_talks_http_to_the_server(s3_store: S3BlobStore, s3_endpoint: str) -> None:
    assert s3_endpoint.startswith("http://127.0.0.1:")
    assert s3_store.client.meta.endpoint_url == s3_endpoint


async def test_delete_prefix_batches(
    s3_store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"{KEY}/v/{i:03d}" for i in range(23)]
    for key in [*keys, "org/proj/img/other"]:
        await s3_store.put(key, b"x", "image/png")
    monkeypatch.setattr(s3_store, "delete_batch_size", 5)
    batches: list[int] = []
    real_delete_objects = s3_store.client.delete_objects

    def spy(**kwargs: Any) -> Any:
        batches.append(len(kwargs["Delete"]["Objects"]))
        return real_delete_objects(**kwargs)

    monkeypatch.setattr(s3_store.client, "delete_objects", spy)
    assert await s3_store.delete_prefix(KEY) == 23
    assert batches == [5, 5, 5, 5, 3]
    assert list_keys(s3_store) == ["org/proj/img/other"]


@pytest.mark.slow  # ~12 s, nearly all of it moto storing 1005 objects one request at a time
async def test_delete_prefix_more_than_1000_keys(s3_store: S3BlobStore) -> None:
    keys = [f"org/proj/img/{i:05d}" for i in range(1005)]
    limiter = anyio.Semaphore(16)

    async def put(key: str) -> None:
        async with limiter:
            await s3_store.put(key, b"x", "image/png")

    async with anyio.create_task_group() as tg:
        for key in keys:
            tg.start_soon(put, key)
    await s3_store.put("org/keep/img/1", b"x", "image/png")
    assert await s3_store.delete_prefix("org/proj/") == 1005
    assert list_keys(s3_store) == ["org/keep/img/1"]


async def test_failed_put_leaves_nothing(s3_store: S3BlobStore) -> None:
    await s3_store.put(VARIANT, b"old", "image/png")

    def fail(**kwargs: Any) -> None:
        raise ConnectionResetError("connection dropped mid-upload")

    events = s3_store.client.meta.events
    events.register("before-send.s3.PutObject", fail)
    try:
        with pytest.raises(Exception, match="connection dropped"):
            await s3_store.put(KEY, b"new", "image/png")
        with pytest.raises(Exception, match="connection dropped"):
            await s3_store.put(VARIANT, b"new", "image/webp")
    finally:
        events.unregister("before-send.s3.PutObject", fail)
    assert await s3_store.head(KEY) is None
    assert await s3_store.head(VARIANT) == BlobInfo(VARIANT, 3, "image/png")
    assert await s3_store.get(VARIANT) == b"old"


# -- buckets and credentials ------------------------------------------------------------------


async def test_missing_bucket_without_create(s3_endpoint: str) -> None:
    store = S3BlobStore(unique_bucket_name(), endpoint_url=s3_endpoint, region="us-east-1")
    with pytest.raises(ClientError) as caught:
        await store.put(KEY, b"x", "image/png")
    assert caught.value.response["Error"]["Code"] == "NoSuchBucket"
    await store.close()


async def test_bucket_created_lazily_in_another_region(s3_endpoint: str) -> None:
    bucket = unique_bucket_name()
    store = S3BlobStore(bucket, endpoint_url=s3_endpoint, region="eu-west-1", create_bucket=True)
    await store.put(KEY, b"x", "image/png")
    location = store.client.get_bucket_location(Bucket=bucket)
    assert location["LocationConstraint"] == "eu-west-1"
    # Idempotent, also when the bucket already exists.
    await store.ensure_bucket()
    again = S3BlobStore(bucket, endpoint_url=s3_endpoint, region="eu-west-1", create_bucket=True)
    assert await again.get(KEY) == b"x"
    await store.close()
    await again.close()


async def test_credentials_from_the_environment(s3_endpoint: str, bucket: str) -> None:
    # running_s3_server() put dummy AWS_* variables in the environment when absent.
    store = S3BlobStore(bucket, endpoint_url=s3_endpoint, create_bucket=True)
    await store.put(KEY, b"env", "image/png")
    assert await store.get(KEY) == b"env"
    await store.close()


def test_half_credentials_rejected() -> None:
    with pytest.raises(ValueError):
        S3BlobStore("b", access_key_id="only-the-id")


# -- factory ----------------------------------------------------------------------------------


async def test_factory_s3_url(s3_endpoint: str, bucket: str) -> None:
    url = s3_storage_url(s3_endpoint, bucket)
    store = open_blob_store(url)
    assert isinstance(store, S3BlobStore)
    assert store.name == "s3"
    assert store.bucket == bucket
    assert store.endpoint_url == s3_endpoint
    assert store.region == "us-east-1"
    await store.put(KEY, b"via url", "image/avif")  # creates the bucket first
    assert await store.head(KEY) == BlobInfo(KEY, 7, "image/avif")
    assert await store.delete_prefix("org/") == 1
    await store.close()


async def test_factory_s3_without_create(s3_endpoint: str) -> None:
    store = open_blob_store(s3_storage_url(s3_endpoint, unique_bucket_name()), create=False)
    with pytest.raises(ClientError):
        await store.put(KEY, b"x", "image/png")
    await store.close()


def test_factory_s3_options() -> None:
    store = open_blob_store(
        "s3://media?endpoint=http%3A%2F%2Fminio%3A9000&region=eu-central-1"
        "&access_key_id=AKIA&secret_access_key=a%2Bb%2Fc",
        create=False,
    )
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "media"
    assert store.endpoint_url == "http://minio:9000"
    assert store.region == "eu-central-1"
    credentials = store.client._request_signer._credentials  # type: ignore[attr-defined]
    assert credentials.access_key == "AKIA"
    assert credentials.secret_key == "a+b/c"

    # No options at all: AWS defaults and the standard credential chain.
    plain = open_blob_store("s3://media")
    assert isinstance(plain, S3BlobStore) and plain.endpoint_url is None


@pytest.mark.parametrize(
    "url",
    ["s3://", "s3://?endpoint=http://x", "s3://b/some/prefix", "s3://b?endpont=http://typo"],
)
def test_factory_s3_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        open_blob_store(url)
