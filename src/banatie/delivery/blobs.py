"""Reading a cached variant on the local blob store without a thread hand-off.

A variant hit reads one small file (tens of KB) that the page cache almost always holds: about
20 µs. Handing that read to a worker thread (what :class:`LocalBlobStore` does for every call,
rightly for originals of megabytes) costs the event loop 150-200 µs of wake-ups and futures —
most of a hit's CPU. So for the local store, a variant up to :data:`INLINE_MAX_BYTES` is read
inline, in the blob file format the store documents (``<content type>\\n<bytes>``, written
atomically by rename, so a reader never sees half of it). Anything else — another store, a
bigger file, an unexpected error — returns ``None`` and the caller uses the store's async API.
"""

from __future__ import annotations

import os
from typing import Final

from banatie.storage.base import BlobNotFound, BlobStore
from banatie.storage.local import BLOB_FILE, LocalBlobStore, validate_key

INLINE_MAX_BYTES: Final = 512 * 1024
_FLAGS: Final = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def read_inline(store: BlobStore, key: str) -> bytes | None:
    """The blob's bytes; raises BlobNotFound; None when it must be read the usual way."""
    if type(store) is not LocalBlobStore:
        return None
    try:
        # The store's own layout (`<root>/<key segments>/__blob__`), with its own key rules,
        # without pathlib's parsing (the same path `store.blob_path(key)` gives).
        validate_key(key)
        path = os.path.join(str(store.root), *key.split("/"), BLOB_FILE)
        fd = os.open(path, _FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        raise BlobNotFound(key) from None
    except (OSError, ValueError):
        return None
    try:
        size = os.fstat(fd).st_size
        if size > INLINE_MAX_BYTES:
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
