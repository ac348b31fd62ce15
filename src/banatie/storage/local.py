"""A BlobStore on the local file system: the embedded default (no network, no keys).

File layout
-----------
The blob stored under key ``a/b/c`` lives in the file ``<root>/a/b/c/__blob__``: every key is a
directory, and the blob itself is the reserved file ``__blob__`` inside it. So a key can be a blob
and, at the same time, the prefix of other blobs: ``org/proj/img/ID`` is
``<root>/org/proj/img/ID/__blob__`` and its variant ``org/proj/img/ID/v/HASH`` is
``<root>/org/proj/img/ID/v/HASH/__blob__``.

A blob file holds its content type and its bytes together, so one ``os.replace`` publishes both::

    <content type, ASCII>\\n<data>

``put`` writes a temporary file (``.__blob__.<random>.tmp``) in the key's directory, flushes it to
disk and renames it over ``__blob__``: a reader sees the old blob or the new one, never half a blob.
A crash mid-write may leave a ``.tmp`` file behind; it is never read as a blob, and
``remove_leftovers`` (run by the orphan collection, ``banatie gc``) deletes it once old.

Keys
----
Keys are ``/``-separated relative paths. Every segment must be non-empty, must not start with
``.`` (which also rules out ``.`` and ``..``), must not be ``__blob__`` and must not contain ``\\``
or NUL. Anything else (absolute keys, ``..``, empty segments) raises ``ValueError``: no key can
name a file outside the root. ``validate_key`` is shared with the S3 adapter so a key that works on
one store works on the other.

File I/O runs in worker threads (``anyio.to_thread.run_sync``), with one exception:
``read_small`` reads a small blob (a cached variant, tens of KB the page cache almost always
holds: about 20 µs) inline. Handing that read to a thread costs the event loop 150-200 µs of
wake-ups and futures — most of a variant hit's CPU; a bigger file, or any surprise, takes the
thread path of ``get``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from banatie.storage.base import BlobInfo, BlobNotFound, StoredBlob

T = TypeVar("T")

BLOB_FILE = "__blob__"
_TMP_PREFIX = f".{BLOB_FILE}."
_TMP_SUFFIX = ".tmp"
_MAX_CONTENT_TYPE = 255
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
# A concurrent delete_prefix may remove a directory between our mkdir and our write; retry.
_PUT_ATTEMPTS = 10


def _check_segment(segment: str, what: str, whole: str) -> None:
    if not segment:
        raise ValueError(f"invalid {what} {whole!r}: empty path segment")
    if segment.startswith("."):
        raise ValueError(f"invalid {what} {whole!r}: a segment may not start with '.'")
    if segment == BLOB_FILE:
        raise ValueError(f"invalid {what} {whole!r}: {BLOB_FILE!r} is reserved")
    if "\\" in segment or "\0" in segment:
        raise ValueError(f"invalid {what} {whole!r}: backslash or NUL")


def validate_key(key: str) -> str:
    """Return `key` unchanged when it is a safe relative key; raise ValueError otherwise."""
    if not isinstance(key, str) or not key:
        raise ValueError("invalid key: empty")
    if key.startswith("/"):
        raise ValueError(f"invalid key {key!r}: absolute")
    for segment in key.split("/"):
        _check_segment(segment, "key", key)
    return key


def validate_prefix(prefix: str) -> str:
    """A prefix is a key, a key followed by `/`, or a key whose last segment is cut short.

    The empty prefix (every blob) is allowed.
    """
    if not isinstance(prefix, str):
        raise ValueError("invalid prefix: not a string")
    if prefix.startswith("/"):
        raise ValueError(f"invalid prefix {prefix!r}: absolute")
    *dirs, leaf = prefix.split("/")
    for segment in dirs:
        _check_segment(segment, "prefix", prefix)
    # The last segment may be cut short ("a/b/ID" matches "a/b/ID2" too), so it may be empty or
    # a start of "__blob__"; a leading "." could never match a valid key and is refused.
    if leaf.startswith(".") or "\\" in leaf or "\0" in leaf:
        raise ValueError(f"invalid prefix {prefix!r}")
    return prefix


def validate_content_type(content_type: str) -> str:
    if (
        not content_type
        or len(content_type) > _MAX_CONTENT_TYPE
        or not content_type.isascii()
        or not content_type.isprintable()
    ):
        raise ValueError(f"invalid content type {content_type!r}")
    return content_type


class LocalBlobStore:
    name = "local"

    def __init__(self, root: Path | str, *, durable: bool = True) -> None:
        """`durable=False` skips fsync (faster, for tests); renames stay atomic either way."""
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self.durable = durable

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------------------

    def _key_dir(self, key: str) -> Path:
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        # Belt and braces: the segment rules already make escaping impossible.
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"invalid key {key!r}: outside the store")
        return path

    def blob_path(self, key: str) -> Path:
        """The file that holds `key` (for diagnostics; use get/put to read and write)."""
        return self._key_dir(key) / BLOB_FILE

    # -- BlobStore -------------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.blob_path(key)
        validate_content_type(content_type)
        header = content_type.encode("ascii") + b"\n"
        if not isinstance(data, bytes):  # a bytearray/memoryview could change under the thread
            data = bytes(data)
        await _run(partial(self._put_sync, path, header, data))

    async def get(self, key: str) -> bytes:
        path = self.blob_path(key)
        return await _run(partial(self._get_sync, key, path))

    async def read_small(self, key: str, max_bytes: int) -> bytes:
        data = self._read_inline(key, max_bytes)
        return await self.get(key) if data is None else data

    async def head(self, key: str) -> BlobInfo | None:
        path = self.blob_path(key)
        return await _run(partial(self._head_sync, key, path))

    async def delete(self, key: str) -> None:
        path = self.blob_path(key)
        await _run(partial(self._delete_sync, path))

    async def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        return await _run(partial(self._delete_prefix_sync, prefix))

    async def list_blobs(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncIterator[list[StoredBlob]]:
        validate_prefix(prefix)
        walk = self._walk(prefix)
        size = max(1, page_size)
        while page := await _run(lambda: list(islice(walk, size))):
            yield page

    async def remove_leftovers(self, before: datetime) -> int:
        return await _run(partial(self._remove_temp_files, before.timestamp()))

    async def close(self) -> None:
        return None

    def _read_inline(self, key: str, max_bytes: int) -> bytes | None:
        """The blob's bytes read on the calling thread; raises BlobNotFound; None when it is
        bigger than `max_bytes` or anything is unexpected (``get`` then reads it, or says why)."""
        try:
            # `blob_path` without pathlib's parsing: this runs on every variant hit.
            validate_key(key)
            fd = os.open(os.path.join(self._root, *key.split("/"), BLOB_FILE), _READ_FLAGS)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFound(key) from None
        except (OSError, ValueError):
            return None
        try:
            size = os.fstat(fd).st_size
            if size > max_bytes:
                return None
            raw = os.read(fd, size)
        except OSError:
            return None
        finally:
            os.close(fd)
        if len(raw) != size:
            return None
        _, sep, data = raw.partition(b"\n")
        return data if sep else None

    # -- worker-thread side ----------------------------------------------------------------

    def _put_sync(self, path: Path, header: bytes, data: bytes) -> None:
        for attempt in range(_PUT_ATTEMPTS):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._write_and_replace(path, header, data)
                return
            except (FileNotFoundError, FileExistsError):
                # A concurrent delete_prefix/delete pruned a directory between our mkdir and our
                # write (mkdir reports FileExistsError when a directory it saw vanishes): retry.
                if attempt == _PUT_ATTEMPTS - 1:
                    raise

    def _write_and_replace(self, path: Path, header: bytes, data: bytes) -> None:
        tmp = path.parent / f"{_TMP_PREFIX}{secrets.token_hex(8)}{_TMP_SUFFIX}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(header)
                fh.write(data)
                fh.flush()
                if self.durable:
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if self.durable:
            _fsync_dir(path.parent)

    @staticmethod
    def _get_sync(key: str, path: Path) -> bytes:
        # The header line, then the bytes read straight into one buffer (not read whole and
        # split: that copies an original of several MB once more).
        try:
            fd = os.open(path, _READ_FLAGS)
            try:
                end = os.pread(fd, _MAX_CONTENT_TYPE + 1, 0).find(b"\n")
                if end < 0:
                    raise OSError(errno.EIO, f"corrupt blob file {path}: no content-type header")
                os.lseek(fd, end + 1, os.SEEK_SET)
                with open(fd, "rb", buffering=0, closefd=False) as raw:
                    return raw.readall()
            finally:
                os.close(fd)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise BlobNotFound(key) from None

    @staticmethod
    def _head_sync(key: str, path: Path) -> BlobInfo | None:
        try:
            with open(path, "rb") as fh:
                first = fh.read(_MAX_CONTENT_TYPE + 1)
                size = os.fstat(fh.fileno()).st_size
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        content_type, sep, _ = first.partition(b"\n")
        if not sep:
            raise OSError(errno.EIO, f"corrupt blob file {path}: no content-type header")
        return BlobInfo(
            key=key,
            size=size - len(content_type) - 1,
            content_type=content_type.decode("ascii"),
        )

    def _walk(self, prefix: str) -> Iterator[StoredBlob]:
        """Blob files under the directories `prefix` can match (advanced in worker threads)."""
        base = self.root.joinpath(*prefix.split("/")[:-1])
        for dirpath, _dirnames, filenames in os.walk(base):
            if BLOB_FILE not in filenames:
                continue
            key = Path(dirpath).relative_to(self.root).as_posix()
            if key == "." or not key.startswith(prefix):
                continue
            try:
                stat = os.stat(os.path.join(dirpath, BLOB_FILE))
            except FileNotFoundError:  # deleted while we walked
                continue
            yield StoredBlob(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def _remove_temp_files(self, before: float) -> int:
        removed = 0
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if not (name.startswith(_TMP_PREFIX) and name.endswith(_TMP_SUFFIX)):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.stat(path).st_mtime >= before:  # a put may still be writing it
                        continue
                    os.unlink(path)
                except FileNotFoundError:  # its put finished (renamed it) meanwhile
                    continue
                removed += 1
                self._prune_empty_dirs(Path(dirpath))
        return removed

    def _delete_sync(self, path: Path) -> None:
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        self._prune_empty_dirs(path.parent)

    def _delete_prefix_sync(self, prefix: str) -> int:
        # Plain string-prefix semantics, exactly like S3: "a/b/ID" matches the keys a/b/ID,
        # a/b/ID/v/x and a/b/ID2; "a/b/" matches everything below a/b but not a/b itself.
        # Every key is a directory, so the matches are the sub-directories of `base` whose names
        # start with `leaf`, with all they contain.
        *dirs, leaf = prefix.split("/")
        base = self.root.joinpath(*dirs)
        try:
            with os.scandir(base) as it:
                matches = [
                    Path(entry.path)
                    for entry in it
                    if entry.name.startswith(leaf) and entry.is_dir(follow_symlinks=False)
                ]
        except (FileNotFoundError, NotADirectoryError):
            return 0
        deleted = sum(self._delete_tree(match) for match in matches)
        self._prune_empty_dirs(base)
        return deleted

    def _delete_tree(self, top: Path) -> int:
        """Unlink every blob file under `top` (inclusive) and remove directories left empty.

        Temporary files of in-flight puts are left alone: such a put lands after the delete.
        """
        deleted = 0
        for dirpath, _dirnames, filenames in os.walk(top, topdown=False):
            if BLOB_FILE in filenames:
                try:
                    os.unlink(os.path.join(dirpath, BLOB_FILE))
                    deleted += 1
                except FileNotFoundError:
                    pass
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)  # fails (and the directory stays) when not empty
        return deleted

    def _prune_empty_dirs(self, start: Path) -> None:
        """Remove `start` and its parents up to (not including) the root while they are empty."""
        current = start
        while current != self.root and current.is_relative_to(self.root):
            try:
                current.rmdir()
            except OSError:
                return
            current = current.parent


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


async def _run(fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)
