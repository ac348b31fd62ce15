"""Per-process state of live URLs: the hit cache, the project cache and in-flight generations.

Nothing here is needed for correctness across replicas (the database is the source of truth);
it keeps the hit path to zero or one indexed query and makes concurrent identical misses in one
process share one flight. An image deleted or given new content in this process drops its
entries at once (`Runtime.image_changed` calls `LiveState.image_changed`); another replica's
change is noticed when the blob is gone (metadata) or after `live_memory_cache_seconds` (bytes).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from banatie.concurrency.single_flight import SingleFlight

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CachedImage:
    """What serving a cached live image needs, without touching the database."""

    entry_id: str
    cache_key: str
    scope: str
    generation_id: str | None
    image_id: str
    storage_key: str
    mime_type: str
    file_hash: str
    size_bytes: int
    width: int
    height: int
    has_alpha: bool
    focal_x: float
    focal_y: float
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectRef:
    id: str
    organization_slug: str
    slug: str


class TTLCache(Generic[K, V]):
    """A small LRU with a time-to-live per entry. Not thread-safe: one event loop uses it."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size = max(0, size)
        self.ttl = ttl
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.size == 0:
            return
        self._items[key] = (time.monotonic() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def drop(self, predicate: Callable[[V], bool]) -> None:
        for key in [k for k, (_, v) in self._items.items() if predicate(v)]:
            del self._items[key]

    def __len__(self) -> int:
        return len(self._items)


class ByteCache:
    """The bytes of hot live images, bounded by their total size, each kept for `ttl` seconds
    (after which the next hit reads the blob store again)."""

    def __init__(self, max_bytes: int, ttl: float, max_item_bytes: int = 8 * 1024 * 1024) -> None:
        self.max_bytes = max(0, max_bytes)
        self.max_item_bytes = min(max_item_bytes, self.max_bytes)
        self.ttl = ttl
        self.size = 0
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            self.discard(key)
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_item_bytes:
            return
        self.discard(key)
        self._items[key] = (time.monotonic() + self.ttl, data)
        self.size += len(data)
        while self.size > self.max_bytes and self._items:
            _, (_, dropped) = self._items.popitem(last=False)
            self.size -= len(dropped)

    def discard(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.size -= len(item[1])

    def clear(self) -> None:
        self._items.clear()
        self.size = 0


class LiveState:
    def __init__(
        self,
        lru_size: int = 10_000,
        lru_ttl: float = 300.0,
        memory_bytes: int = 64 * 1024 * 1024,
        memory_ttl: float = 1.0,
    ) -> None:
        # Identifies this process's claims on pending rows (cross-replica single-flight).
        self.instance = uuid.uuid4().hex
        self.hits: TTLCache[str, CachedImage] = TTLCache(lru_size, lru_ttl)
        # storage key -> bytes of the hottest originals (a memory tier in front of the blobs).
        self.bodies = ByteCache(memory_bytes, memory_ttl)
        self.projects: TTLCache[tuple[str, str], ProjectRef] = TTLCache(1024, 60.0)
        # cache key -> the one generation every concurrent identical miss in this process
        # awaits; it runs detached from requests (a client hanging up must not cancel it).
        self.flights = SingleFlight()
        # The warm hit path's memo (`banatie.live.fastpath`): a live URL as written -> its
        # project and cache key, and a cached image -> its response headers, made once.
        self.url_keys: dict[tuple[str, bytes], tuple[tuple[str, str], tuple[str, str]]] = {}
        self.hit_headers: dict[str, tuple[CachedImage, list[tuple[bytes, bytes]]]] = {}
        # Generations started by this process (what the benchmark and tests count).
        self.generations_started = 0

    def forget(self, *cache_keys: str) -> None:
        for key in cache_keys:
            cached = self.hits.get(key)
            if cached is not None:
                self.bodies.discard(cached.storage_key)
            self.hits.discard(key)
            self.hit_headers.pop(key, None)

    def image_changed(self, image_id: str, storage_key: str) -> None:
        """The image was deleted or given new content (its old blob at `storage_key` goes)."""
        self.bodies.discard(storage_key)
        self.hits.drop(lambda cached: cached.image_id == image_id)

    async def close(self) -> None:
        await self.flights.close()
