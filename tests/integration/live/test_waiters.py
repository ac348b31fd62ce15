"""Requests waiting on another request's live generation get its answer as soon as it has one."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from banatie.accounts.models import Project
from tests.conftest import Keys
from tests.integration.live.conftest import ClientFactory, live_url
from tests.support.synthesizers import HeldSynthesizer


async def test_waiters_share_the_leaders_ip_refusal(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, client_at: ClientFactory
) -> None:
    app.state.runtime.settings.live_ip_rate_limit = "1/hour"
    async with client_at("203.0.113.9") as visitor:
        assert (await visitor.get(live_url("the budget"))).status_code == 200
        url = live_url("one too many")
        responses = await asyncio.gather(*(visitor.get(url) for _ in range(30)))
    answers = Counter((r.status_code, r.json()["error"]["code"]) for r in responses)
    assert answers == {(429, "RATE_LIMIT_EXCEEDED"): 30}, answers
    assert all(int(r.headers["retry-after"]) > 0 for r in responses)
    # Nothing was generated nor left pending.
    listed = await client.get("/api/v1/live/scopes/blog/images", headers=keys.headers())
    assert [i["prompt"] for i in listed.json()["data"]] == ["the budget"]


async def test_a_waiter_from_another_ip_tries_under_its_own_budget(
    app: FastAPI, keys: Keys, client_at: ClientFactory
) -> None:
    app.state.runtime.settings.live_ip_rate_limit = "1/hour"
    url = live_url("shared by two visitors")
    async with client_at("203.0.113.10") as spent, client_at("203.0.113.11") as fresh:
        assert (await spent.get(live_url("spent it"))).status_code == 200
        *refused, served = await asyncio.gather(*(spent.get(url) for _ in range(5)), fresh.get(url))
    assert served.status_code == 200, served.text
    # The spent visitor's requests were refused, or waited on the other visitor's image.
    assert {r.status_code for r in refused} <= {200, 429}


async def test_waiters_from_many_spent_ips_each_get_their_429(
    app: FastAPI, keys: Keys, client_at: ClientFactory
) -> None:
    """30 clients, every one over its budget, ask for one URL at once: each is refused at once
    under its own budget (none is left waiting for a generation that never comes)."""
    runtime = app.state.runtime
    runtime.settings.live_ip_rate_limit = "1/hour"
    async with runtime.sessionmaker() as session:
        project_id = (
            await session.execute(select(Project.id).where(Project.slug == "site"))
        ).scalar_one()
    ips = [f"198.51.100.{i}" for i in range(1, 31)]
    for ip in ips:  # each has spent its budget already
        await runtime.rate_limiter.hit("1/hour", "live-ip", f"{project_id}:{ip}")
    url = live_url("wanted by everyone")
    async with contextlib.AsyncExitStack() as stack:
        visitors = [await stack.enter_async_context(client_at(ip)) for ip in ips]
        responses = await asyncio.gather(*(visitor.get(url) for visitor in visitors))
    answers = Counter((r.status_code, r.json()["error"]["code"]) for r in responses)
    assert answers == {(429, "RATE_LIMIT_EXCEEDED"): 30}, answers


async def test_waiters_are_answered_when_the_server_stops_mid_generation(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    """Shutting down cancels the shared generation: every request waiting on it gets a 503 it
    can retry (elsewhere), not a dropped connection."""
    runtime = app.state.runtime
    held = HeldSynthesizer(runtime.synthesizer)
    runtime.synthesizer = held
    url = live_url("never finished here")
    waiting = [asyncio.create_task(client.get(url)) for _ in range(3)]
    for _ in range(1000):  # until the generation is in flight (at most 10 s)
        if held.started:
            break
        await asyncio.sleep(0.01)
    assert held.started == 1
    await runtime.live.close()
    responses = await asyncio.gather(*waiting)
    answers = Counter((r.status_code, r.json()["error"]["code"]) for r in responses)
    assert answers == {(503, "UNAVAILABLE"): 3}, answers
