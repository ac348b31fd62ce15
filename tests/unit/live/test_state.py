"""The per-process caches of live URLs: bounded, expiring, and dropped when an image goes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from banatie.live.state import ByteCache, CachedImage, LiveState, TTLCache


def cached(key: str, image_id: str = "img-1") -> CachedImage:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return CachedImage(
        entry_id="e",
        cache_key=key,
        scope="blog",
        generation_id="g",
        image_id=image_id,
        storage_key=f"acme/site/img/{image_id}",
        mime_type="image/png",
        file_hash="f" * 64,
        size_bytes=3,
        width=1,
        height=1,
        has_alpha=False,
        focal_x=0.5,
        focal_y=0.5,
        created_at=now,
        updated_at=now,
    )


def test_ttl_cache_evicts_least_recently_used_and_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache: TTLCache[str, int] = TTLCache(2, ttl=10)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    clock[0] += 11
    assert cache.get("a") is None and len(cache) == 1
    assert TTLCache[str, int](0, ttl=10).get("x") is None


def test_byte_cache_is_bounded_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    cache = ByteCache(max_bytes=10, ttl=5, max_item_bytes=6)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    cache.put("big", b"x" * 7)  # over the per-item bound: not kept
    assert cache.get("big") is None and cache.size == 8
    cache.put("c", b"cccc")  # 12 > 10: the oldest goes
    assert cache.get("a") is None and cache.get("b") == b"bbbb" and cache.size == 8
    cache.put("b", b"bb")  # replacing keeps the count right
    assert cache.size == 6
    clock[0] = 6
    assert cache.get("c") is None and cache.size == 2
    assert ByteCache(max_bytes=0, ttl=5).get("a") is None


def test_deleting_an_image_drops_it_from_every_cache() -> None:
    live = LiveState()
    live.hits.put("k1", cached("k1", "img-1"))
    live.hits.put("k2", cached("k2", "img-2"))
    live.bodies.put("acme/site/img/img-1", b"png")
    live.image_changed("img-1", "acme/site/img/img-1")
    assert live.hits.get("k1") is None and live.hits.get("k2") is not None
    assert live.bodies.get("acme/site/img/img-1") is None
    live.bodies.put("acme/site/img/img-2", b"png")
    live.forget("k2")
    assert live.hits.get("k2") is None and live.bodies.get("acme/site/img/img-2") is None
