"""Variant keys."""

from __future__ import annotations

from banatie.delivery.params import parse_transform
from banatie.delivery.variants import variant_hash, variant_key


def spec(query: str, fmt: str = "webp"):  # type: ignore[no-untyped-def]
    params = dict(p.split("=", 1) for p in query.split("&") if p)
    return parse_transform(params).with_format(fmt)  # type: ignore[arg-type]


def test_hash_covers_what_decides_the_bytes() -> None:
    focal = (0.5, 0.5)
    base = variant_hash(spec("w=100&h=50&mode=crop"), focal)
    assert base == variant_hash(spec("mode=crop&height=50&width=100"), focal)
    assert base == variant_hash(spec("w=50&h=25&dpr=2&mode=crop"), focal)
    assert base != variant_hash(spec("w=100&h=50&mode=crop", "jpeg"), focal)
    assert base != variant_hash(spec("w=100&h=50&mode=crop"), (0.1, 0.5))
    # The focal point only matters to focal crops.
    assert variant_hash(spec("w=100"), (0.1, 0.1)) == variant_hash(spec("w=100"), (0.9, 0.9))
    gravity = spec("w=100&h=50&mode=crop&c.gravity=10,10")
    assert variant_hash(gravity, (0.1, 0.1)) == variant_hash(gravity, (0.9, 0.9))
    assert variant_key("a/b/img/x", base) == f"a/b/img/x/v/{base}"
    assert len(base) == 40
