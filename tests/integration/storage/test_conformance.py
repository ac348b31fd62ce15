"""The BlobStore contract, held to every adapter: the local store and S3 (moto's server over HTTP).

A new adapter joins by adding a branch to the `store` fixture; what only one adapter does (the
local file layout, S3 batches and buckets) is tested next to it (tests/unit/storage/test_local.py,
tests/integration/storage/test_s3.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from banatie.storage.base import BlobInfo, BlobNotFound, BlobStore
from banatie.storage.local import BLOB_FILE, LocalBlobStore
from banatie.storage.s3 import S3BlobStore
from tests.support.s3_server import (
    TEST_ACCESS_KEY_ID,
    TEST_REGION,
    TEST_SECRET_ACCESS_KEY,
    unique_bucket_name,
)

KEY = "org/proj/img/0123456789"
VARIANT = f"{KEY}/v/abcdef"


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    made: BlobStore
    if request.param == "local":
        made = LocalBlobStore(tmp_path / "blobs", durable=False)
    else:
        made = S3BlobStore(
            unique_bucket_name(),
            endpoint_url=request.getfixturevalue("s3_endpoint"),
            region=TEST_REGION,
            access_key_id=TEST_ACCESS_KEY_ID,
            secret_access_key=TEST_SECRET_ACCESS_KEY,
            create_bucket=True,
        )
    assert made.name == request.param
    yield made
    await made.close()


async def keys_in(store: BlobStore, prefix: str = "") -> list[str]:
    return sorted([blob.key async for page in store.list_blobs(prefix) for blob in page])


async def test_roundtrip(store: BlobStore) -> None:
    await store.put(KEY, b"\x89PNG\r\n\x1a\nbytes", "image/png")
    assert await store.get(KEY) == b"\x89PNG\r\n\x1a\nbytes"
    assert await store.head(KEY) == BlobInfo(key=KEY, size=13, content_type="image/png")

    await store.delete(KEY)
    assert await store.head(KEY) is None
    with pytest.raises(BlobNotFound) as caught:
        await store.get(KEY)
    assert caught.value.key == KEY


async def test_missing_key(store: BlobStore) -> None:
    assert await store.head("org/proj/img/nope") is None
    with pytest.raises(BlobNotFound):
        await store.get("org/proj/img/nope")
    with pytest.raises(BlobNotFound):
        await store.read_small("org/proj/img/nope", 1024)
    await store.delete("org/proj/img/nope")  # not an error
    assert await store.delete_prefix("org/proj/") == 0


async def test_read_small_returns_what_get_returns(store: BlobStore) -> None:
    await store.put(VARIANT, b"\x00variant\nbytes", "image/webp")
    assert await store.read_small(VARIANT, 1024) == b"\x00variant\nbytes"
    big = bytes(range(256)) * 64
    await store.put(KEY, big, "image/png")
    assert await store.read_small(KEY, 1024) == big  # bigger than expected: still whole
    with pytest.raises(BlobNotFound):
        await store.read_small(f"{VARIANT}/deeper", 1024)


async def test_empty_blob_and_binary_data(store: BlobStore) -> None:
    await store.put(KEY, b"", "application/octet-stream")
    assert await store.get(KEY) == b""
    assert await store.head(KEY) == BlobInfo(KEY, 0, "application/octet-stream")
    blob = bytes(range(256)) * 10 + b"\n\n"
    await store.put(VARIANT, blob, "image/jpeg")
    assert await store.get(VARIANT) == blob
    assert await store.head(VARIANT) == BlobInfo(VARIANT, len(blob), "image/jpeg")


@pytest.mark.parametrize(
    "content_type", ["image/png", "image/webp", "image/svg+xml", 'text/plain; charset="utf-8"']
)
async def test_content_types(store: BlobStore, content_type: str) -> None:
    await store.put(KEY, b"xyz", content_type)
    assert await store.head(KEY) == BlobInfo(KEY, 3, content_type)


async def test_overwrite_replaces_data_and_content_type(store: BlobStore) -> None:
    await store.put(KEY, b"first", "image/png")
    await store.put(KEY, b"second!", "image/webp")
    assert await store.get(KEY) == b"second!"
    assert await store.head(KEY) == BlobInfo(KEY, 7, "image/webp")


@pytest.mark.parametrize("content_type", ["", "image/png\nX-Evil: 1", "image/\x00png", "ïmage/png"])
async def test_bad_content_type_rejected(store: BlobStore, content_type: str) -> None:
    with pytest.raises(ValueError):
        await store.put(KEY, b"x", content_type)
    assert await store.head(KEY) is None


async def test_a_prefix_of_a_blob_is_not_a_blob(store: BlobStore) -> None:
    await store.put(VARIANT, b"v", "image/png")
    assert await store.head(KEY) is None
    with pytest.raises(BlobNotFound):
        await store.get(KEY)
    await store.delete(KEY)  # nothing there: nothing happens
    assert await store.get(VARIANT) == b"v"


async def test_key_is_both_blob_and_prefix(store: BlobStore) -> None:
    await store.put(KEY, b"original", "image/png")
    await store.put(VARIANT, b"variant", "image/webp")
    await store.put(f"{KEY}/v/other", b"other", "image/webp")
    assert await store.get(KEY) == b"original"
    assert await store.get(VARIANT) == b"variant"

    # Deleting the original leaves its variants.
    await store.delete(KEY)
    assert await store.head(KEY) is None
    assert await store.get(VARIANT) == b"variant"

    await store.put(KEY, b"original", "image/png")
    # "KEY/" is every variant but not KEY itself.
    assert await store.delete_prefix(f"{KEY}/") == 2
    assert await store.get(KEY) == b"original"
    assert await store.head(VARIANT) is None


async def test_delete_prefix_is_a_string_prefix(store: BlobStore) -> None:
    for key in ("o/p/img/ab", "o/p/img/abc", "o/p/img/abc/v/1", "o/p/img/b", "o/p/imgx/a"):
        await store.put(key, b"x", "image/png")
    assert await store.delete_prefix("o/p/img/ab") == 3
    assert await keys_in(store) == ["o/p/img/b", "o/p/imgx/a"]
    assert await store.delete_prefix("") == 2  # the empty prefix: everything
    assert await keys_in(store) == []


async def test_list_blobs_pages_every_blob_under_a_prefix(store: BlobStore) -> None:
    keys = [KEY, VARIANT, "org/proj/img/0123456789b", "org/other/img/1", "z"]
    for key in keys:
        await store.put(key, b"data", "image/png")
    pages = [page async for page in store.list_blobs(page_size=2)]
    assert [len(page) for page in pages] == [2, 2, 1]
    listed = {blob.key: blob for page in pages for blob in page}
    assert sorted(listed) == sorted(keys)
    # `size` is what the blob takes in the store: at least its bytes.
    assert listed[KEY].size >= 4 and listed[KEY].modified_at.tzinfo is not None
    assert await keys_in(store, "org/proj/img/0123456789") == sorted(
        [KEY, VARIANT, "org/proj/img/0123456789b"]
    )
    assert await keys_in(store, "nothing/here/") == []


BAD_KEYS = [
    "",
    "/etc/passwd",
    "../escape",
    "org/../../escape",
    "org/./x",
    "org//x",
    "org/x/",
    ".hidden",
    "org/.tmp",
    f"org/{BLOB_FILE}",
    "org\\..\\x",
    "org/\x00x",
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_rejected_alike(store: BlobStore, key: str) -> None:
    """A key that works on one store works on the other; one refused is refused by both."""
    with pytest.raises(ValueError):
        await store.put(key, b"x", "image/png")
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.read_small(key, 1024)
    with pytest.raises(ValueError):
        await store.head(key)
    with pytest.raises(ValueError):
        await store.delete(key)
    assert await keys_in(store) == []


@pytest.mark.parametrize("prefix", ["/", "/etc", "../", "a/../", "a//", ".", "a/.x", "a/..", "a\\"])
async def test_bad_prefix_rejected_alike(store: BlobStore, prefix: str) -> None:
    with pytest.raises(ValueError):
        await store.delete_prefix(prefix)
    with pytest.raises(ValueError):
        await keys_in(store, prefix)


async def test_concurrent_puts(store: BlobStore) -> None:
    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(store.put, f"o/p/img/{i}", str(i).encode(), "image/png")
    for i in range(20):
        assert await store.get(f"o/p/img/{i}") == str(i).encode()
