"""One run per key however many callers; a caller going away stops nothing; close stops all."""

from __future__ import annotations

import asyncio

import pytest

from banatie.concurrency.single_flight import SingleFlight


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


async def test_close_stops_the_work_still_running() -> None:
    flights = SingleFlight()
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    waiter = asyncio.create_task(flights.run("k", forever))
    await started.wait()
    await flights.close()
    assert len(flights) == 0
    with pytest.raises(asyncio.CancelledError):
        await waiter  # the shared work was cancelled, so its waiters are answered at once
