"""The BlobStore port: where image bytes live. Keys look like `{org}/{project}/img/{imageId}`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class BlobNotFound(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"no blob at {key!r}")
        self.key = key


class StorageUnavailable(Exception):
    """The store cannot be reached or answers with a server error: retry later (a 503)."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    content_type: str


@dataclass(frozen=True)
class StoredBlob:
    """One blob as a listing shows it: `size` is what it takes in the store."""

    key: str
    size: int
    modified_at: datetime


class BlobStore(Protocol):
    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write atomically: a reader never sees a half-written blob."""

    async def get(self, key: str) -> bytes:
        """Raise BlobNotFound when missing."""

    async def read_small(self, key: str, max_bytes: int) -> bytes:
        """What :meth:`get` returns, by the quickest way the store has for a blob expected to be
        at most `max_bytes` (a cached variant: tens of KB, read on every hit). A bigger blob is
        still returned whole, the usual way. Raise BlobNotFound when missing."""

    async def head(self, key: str) -> BlobInfo | None: ...

    async def delete(self, key: str) -> None:
        """Deleting a missing key is not an error."""

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with `prefix`; return how many."""

    def list_blobs(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncIterator[list[StoredBlob]]:
        """Every blob whose key starts with `prefix`, a page at a time, in no set order."""
        ...

    async def remove_leftovers(self, before: datetime) -> int:
        """Remove what writes interrupted by a crash left behind, last touched before `before`
        (a write still running is younger); how many were removed."""

    async def close(self) -> None: ...
