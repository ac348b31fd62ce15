"""Variant keys and single-flight."""

from __future__ import annotations

import asyncio

import pytest

from banatie.delivery.params import parse_transform
from banatie.delivery.variants import SingleFlight, variant_hash, variant_key


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


async def test_single_flight_shares_one_run_and_errors() -> None:
    flights = SingleFlight()
    runs = 0
    gate = asyncio.Event()

    async def work() -> str:
        nonlocal runs
        runs += 1
        await gate.wait()
        return "done"

    tasks = [asyncio.create_task(flights.run("k", work)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert runs == 1
    assert [led for _, led in results].count(True) == 1
    assert {value for value, _ in results} == {"done"}
    assert len(flights) == 0

    async def boom() -> str:
        raise RuntimeError("render failed")

    for _ in range(2):  # an error is not remembered
        with pytest.raises(RuntimeError):
            await flights.run("k", boom)
    assert len(flights) == 0


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flights = SingleFlight()
    gate = asyncio.Event()

    async def work() -> int:
        await gate.wait()
        return 7

    first = asyncio.create_task(flights.run("k", work))
    second = asyncio.create_task(flights.run("k", work))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert (await second)[0] == 7
    with pytest.raises(asyncio.CancelledError):
        await first
