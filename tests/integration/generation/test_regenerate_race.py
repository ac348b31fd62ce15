"""Concurrent regenerations of one generation: the database picks one winner, the others are
told it is in progress (409), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from fastapi import FastAPI

from tests.conftest import Keys
from tests.integration.providers.support import usage_used
from tests.support.synthesizers import HeldSynthesizer


async def test_parallel_regenerates_one_wins(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    app.state.runtime.settings.free_rate_limit = "1000/minute"
    created = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a red kite"}
    )
    assert created.status_code == 201, created.text
    gen_id = created.json()["data"]["id"]

    # The winner is held in the synthesizer until the nine others have been answered, so they
    # overlap it however slow the machine is.
    rt = app.state.runtime
    held = HeldSynthesizer(rt.synthesizer)
    rt.synthesizer = held
    tasks = [
        asyncio.create_task(
            client.post(f"/api/v1/generations/{gen_id}/regenerate", headers=keys.headers())
        )
        for _ in range(10)
    ]
    try:
        for _ in range(600):
            if sum(task.done() for task in tasks) >= 9:
                break
            await asyncio.sleep(0.05)
    finally:
        held.release()
        rt.synthesizer = held.inner
    responses = await asyncio.gather(*tasks)
    assert held.started == 1
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 9}, [r.text for r in responses if r.status_code != 409]
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert codes == {"GENERATION_IN_PROGRESS"}

    # The winner's work is what is stored; only it was charged, and the next one runs.
    fetched = await client.get(f"/api/v1/generations/{gen_id}", headers=keys.headers())
    assert fetched.json()["data"]["status"] == "success"
    assert await usage_used(client, keys) == 2
    again = await client.post(f"/api/v1/generations/{gen_id}/regenerate", headers=keys.headers())
    assert again.status_code == 200, again.text
    assert await usage_used(client, keys) == 3
