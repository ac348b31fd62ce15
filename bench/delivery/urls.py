"""The requests of the benchmark, the same work for every contender.

Misses: `w=400&h=300&mode=crop&format=webp` with `w` in 300..499 and `quality` in 30..99 varied,
so every request is a transform nobody has done yet (14,000 distinct variants; a run never
repeats one). Hits: 50 variants (quality 50..99) rendered once in a warm-up, then requested over
and over.
"""

from __future__ import annotations

import itertools

HIT_QUALITIES = tuple(range(50, 100))


def miss_combos() -> list[tuple[int, int]]:
    """(w, quality) pairs, interleaved so consecutive requests differ in both."""
    widths = [400 + (i // 2 + 1) * (1 if i % 2 else -1) for i in range(200)]  # 399, 401, 398...
    qualities = list(range(99, 29, -1))
    return [(w, q) for q, w in itertools.product(qualities, widths)]


def hit_combos() -> list[tuple[int, int]]:
    return [(400, q) for q in HIT_QUALITIES]


def banatie_path(image_id: str, width: int, quality: int, key: str | None = None) -> str:
    """Signed with `key` through banatie.delivery.signing, as a deployment would."""
    from banatie.delivery.signing import sign_query

    path = f"/cdn/bench/main/img/{image_id}"
    query = f"w={width}&h=300&mode=crop&format=webp&quality={quality}"
    return f"{path}?{sign_query(key, path, query) if key else query}"


def thumbor_path(width: int, quality: int) -> str:
    return f"/unsafe/{width}x300/filters:format(webp):quality({quality})/bench.png"
