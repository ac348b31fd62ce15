"""What only LocalBlobStore does (its file layout, temporary files, threads) and the file side of
open_blob_store; the contract every store keeps is tests/integration/storage/test_conformance.py."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import anyio
import pytest

from banatie.storage.base import BlobInfo, BlobNotFound
from banatie.storage.factory import open_blob_store
from banatie.storage.local import BLOB_FILE, LocalBlobStore

KEY = "org/proj/img/0123456789"
VARIANT = f"{KEY}/v/abcdef"


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", durable=False)


def stray_files(root: Path) -> list[Path]:
    """Everything in the tree that is not a blob file (e.g. leaked temp files)."""
    return [p for p in root.rglob("*") if p.is_file() and p.name != BLOB_FILE]


async def test_delete_prunes_empty_directories(store: LocalBlobStore) -> None:
    await store.put(KEY, b"\x89PNG\r\n\x1a\nbytes", "image/png")
    await store.delete(KEY)
    # Deleting removes the key directories it leaves empty, but never the root.
    assert store.root.is_dir()
    assert list(store.root.iterdir()) == []


async def test_file_layout(store: LocalBlobStore) -> None:
    await store.put(KEY, b"data", "image/webp")
    path = store.root / "org" / "proj" / "img" / "0123456789" / BLOB_FILE
    assert store.blob_path(KEY) == path
    assert path.read_bytes() == b"image/webp\ndata"


async def test_overwrite_leaves_no_temporary_files(store: LocalBlobStore) -> None:
    await store.put(KEY, b"first", "image/png")
    await store.put(KEY, b"second!", "image/webp")
    assert await store.get(KEY) == b"second!"
    assert stray_files(store.root) == []


async def test_delete_prefix_removes_the_folder(store: LocalBlobStore) -> None:
    other = "org/proj/img/9999999999"
    for key in (KEY, VARIANT, f"{KEY}/v/b", other, "org/other/img/1"):
        await store.put(key, key.encode(), "image/png")

    assert await store.delete_prefix(KEY) == 3
    for key in (KEY, VARIANT, f"{KEY}/v/b"):
        assert await store.head(key) is None
    assert await store.get(other) == other.encode()
    assert not (store.root / "org/proj/img/0123456789").exists()

    assert await store.delete_prefix("org/") == 2
    assert list(store.root.iterdir()) == []
    assert store.root.is_dir()


async def test_delete_prefix_empty_means_everything(store: LocalBlobStore) -> None:
    for key in ("a/1", "a/1/2", "b/3"):
        await store.put(key, b"x", "image/png")
    assert await store.delete_prefix("") == 3
    assert list(store.root.iterdir()) == []


async def test_delete_prefix_keeps_in_flight_temp_files(store: LocalBlobStore) -> None:
    await store.put(KEY, b"x", "image/png")
    temp = store.blob_path(KEY).parent / ".__blob__.in-flight.tmp"
    temp.write_bytes(b"image/png\nnew")
    assert await store.delete_prefix("org/") == 1
    assert temp.exists()  # the directory stays because a put is still writing into it


async def test_failed_write_leaves_nothing(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fdopen = os.fdopen

    class Exploding:
        def __init__(self, fh: object) -> None:
            self.fh = fh

        def __enter__(self) -> Exploding:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()  # type: ignore[attr-defined]

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: Exploding(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space"):
        await store.put(KEY, b"new data", "image/png")
    monkeypatch.undo()

    assert await store.head(KEY) is None
    with pytest.raises(BlobNotFound):
        await store.get(KEY)
    assert stray_files(store.root) == []


async def test_failed_replace_keeps_old_version(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put(KEY, b"old", "image/png")

    def boom(src: object, dst: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="I/O error"):
        await store.put(KEY, b"new and longer", "image/webp")
    monkeypatch.undo()

    assert await store.get(KEY) == b"old"
    assert await store.head(KEY) == BlobInfo(KEY, 3, "image/png")
    assert stray_files(store.root) == []


async def test_readers_never_see_half_a_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, durable=False)
    versions = [bytes([i]) * 200_000 for i in range(1, 5)]
    await store.put(KEY, versions[0], "image/png")
    seen: set[bytes] = set()

    async def writer() -> None:
        for _ in range(10):
            for version in versions:
                await store.put(KEY, version, "image/png")

    async def reader() -> None:
        for _ in range(40):
            data = await store.get(KEY)
            assert data in versions
            seen.add(data[:1])

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        tg.start_soon(reader)
        tg.start_soon(reader)
    assert seen
    assert stray_files(tmp_path) == []


async def test_file_io_runs_off_the_event_loop(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        threads.append(threading.get_ident())
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    await store.put(KEY, b"x", "image/png")
    assert threads and loop_thread not in threads


async def test_small_reads_stay_on_the_event_loop(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached variant is read inline (no thread hand-off); a big blob still takes a thread."""
    await store.put(VARIANT, b"\x00variant\nbytes", "image/webp")
    await store.put(KEY, b"x" * 2048, "image/png")
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real_open = os.open

    def spy(path: str, flags: int, *args: int) -> int:
        threads.append(threading.get_ident())
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", spy)
    assert await store.read_small(VARIANT, 1024) == b"\x00variant\nbytes"
    assert threads == [loop_thread]
    with pytest.raises(BlobNotFound):
        await store.read_small(f"{VARIANT}/missing", 1024)
    assert await store.read_small(KEY, 1024) == b"x" * 2048  # bigger than asked: read whole


async def test_small_reads_report_what_get_reports(store: LocalBlobStore) -> None:
    with pytest.raises(ValueError):
        await store.read_small("../escape", 1024)  # the store's key rules still apply
    bad = store.root / "odd"
    bad.mkdir(parents=True)
    (bad / BLOB_FILE).write_bytes(b"no header line")
    with pytest.raises(OSError):
        await store.read_small("odd", 1024)


async def test_durable_mode(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put(KEY, b"fsynced", "image/png")
    assert await store.get(KEY) == b"fsynced"
    await store.close()


# -- factory ----------------------------------------------------------------------------------


async def test_factory_file_url(tmp_path: Path) -> None:
    root = tmp_path / "deep" / "blobs"
    store = open_blob_store(f"file://{root}")
    assert isinstance(store, LocalBlobStore)
    assert store.name == "local"
    assert store.root == root.resolve()
    assert root.is_dir()
    await store.put(KEY, b"x", "image/png")
    assert await store.get(KEY) == b"x"


def test_factory_bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_blob_store("var/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == (tmp_path / "var" / "blobs").resolve()
    assert store.root.is_dir()
    absolute = open_blob_store(str(tmp_path / "abs"))
    assert isinstance(absolute, LocalBlobStore) and absolute.root == (tmp_path / "abs").resolve()


def test_factory_settings_default(tmp_path: Path) -> None:
    from banatie.settings import Settings

    settings = Settings(data_dir=tmp_path)
    store = open_blob_store(settings.resolved_storage_url)
    assert isinstance(store, LocalBlobStore)
    assert store.root == (tmp_path / "blobs").resolve()


def test_factory_no_create(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        open_blob_store(f"file://{tmp_path / 'missing'}", create=False)
    assert not (tmp_path / "missing").exists()
    store = open_blob_store(f"file://{tmp_path}", create=False)
    assert isinstance(store, LocalBlobStore)


@pytest.mark.parametrize(
    "url",
    [
        "file://relative/path",  # host "relative": a typo for file:///relative/path
        "file:///tmp/x?fsync=no",  # file storage takes no options
        "gs://bucket",
        "file://",
    ],
)
def test_factory_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        open_blob_store(url, create=False)


async def test_put_survives_concurrent_delete_prefix(tmp_path: Path) -> None:
    """delete_prefix prunes empty directories while puts create them: puts must not fail."""
    store = LocalBlobStore(tmp_path, durable=False)

    async def putter(n: int) -> None:
        for i in range(100):
            await store.put(f"o/p/img/{n}/v/{i % 5}", b"x" * 100, "image/png")

    async def deleter() -> None:
        for _ in range(100):
            await store.delete_prefix("o/")

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(putter, n)
        tg.start_soon(deleter)
        tg.start_soon(deleter)
    await store.delete_prefix("")
    assert list(store.root.iterdir()) == []


async def test_list_blobs_skips_temporary_files_and_sizes_the_file(store: LocalBlobStore) -> None:
    for key in (KEY, VARIANT):
        await store.put(key, b"data", "image/png")
    (store.root / "org" / "proj" / "img" / ".__blob__.x.tmp").write_bytes(b"half")
    listed = {blob.key: blob async for page in store.list_blobs() for blob in page}
    assert sorted(listed) == sorted([KEY, VARIANT])
    assert listed[KEY].size == len(b"image/png\ndata")  # what it takes on disk
    assert abs(listed[KEY].modified_at.timestamp() - os.stat(store.blob_path(KEY)).st_mtime) < 1
