"""Inline reads of small variants on the local blob store (and when not to)."""

from __future__ import annotations

from pathlib import Path

import pytest

from banatie.delivery.blobs import INLINE_MAX_BYTES, read_inline
from banatie.storage.base import BlobNotFound
from banatie.storage.local import LocalBlobStore


async def test_reads_what_the_store_wrote(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, durable=False)
    await store.put("a/b/img/x/v/h1", b"\x00variant\nbytes", "image/webp")
    assert read_inline(store, "a/b/img/x/v/h1") == b"\x00variant\nbytes"
    assert read_inline(store, "a/b/img/x/v/h1") == await store.get("a/b/img/x/v/h1")
    with pytest.raises(BlobNotFound):
        read_inline(store, "a/b/img/x/v/missing")
    with pytest.raises(BlobNotFound):
        read_inline(store, "a/b/img/x/v/h1/deeper")


async def test_falls_back_when_it_should(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, durable=False)
    await store.put("big", b"x" * (INLINE_MAX_BYTES + 1), "image/png")
    assert read_inline(store, "big") is None  # large: the store reads it in a thread
    assert read_inline(store, "../escape") is None  # the store's key rules still apply
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "__blob__").write_bytes(b"no header line")
    assert read_inline(store, "odd") is None

    class OtherStore:
        name = "other"

    assert read_inline(OtherStore(), "big") is None  # type: ignore[arg-type]
