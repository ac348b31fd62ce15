"""A poller passes at start, again when woken (long before its poll interval), survives a
failed pass, and stops."""

from __future__ import annotations

import asyncio
import logging

import pytest

from banatie.concurrency.poller import Poller


class Counting(Poller):
    task_name = "test-poller"
    what = "test poller"
    log = logging.getLogger("tests.poller")

    def __init__(self, fail_first: bool = False) -> None:
        self.passes = 0
        self.fail_first = fail_first
        self.passed = asyncio.Event()

    @property
    def poll_seconds(self) -> float:
        return 3600.0  # only a wake makes a second pass within the test

    async def drain_once(self) -> int:
        self.passes += 1
        self.passed.set()
        if self.fail_first and self.passes == 1:
            raise RuntimeError("database hiccup")
        return 0


async def _next_pass(poller: Counting) -> None:
    poller.passed.clear()
    await asyncio.wait_for(poller.passed.wait(), 5)


async def test_a_wake_makes_a_pass_now_and_stop_ends_the_task() -> None:
    poller = Counting()
    poller.start()
    await asyncio.wait_for(poller.passed.wait(), 5)
    assert poller.passes == 1
    await poller.on_commit()  # the after_commit effect form of wake()
    await _next_pass(poller)
    assert poller.passes == 2
    await poller.stop()
    poller.wake()  # nothing runs any more
    await asyncio.sleep(0.05)
    assert poller.passes == 2


async def test_a_failed_pass_is_logged_and_the_worker_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    poller = Counting(fail_first=True)
    with caplog.at_level(logging.ERROR, logger="tests.poller"):
        poller.start()
        await asyncio.wait_for(poller.passed.wait(), 5)
        await asyncio.sleep(0)
        poller.wake()
        await _next_pass(poller)
    await poller.stop()
    assert poller.passes == 2
    assert "test poller: pass failed; retrying at the next poll" in caplog.text
