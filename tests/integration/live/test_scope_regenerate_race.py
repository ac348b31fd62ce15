"""Regenerating live images: concurrent requests (one wins, the others are told it is in
progress) and a failure part-way through a scope."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Keys
from tests.integration.live.conftest import live_url
from tests.support.synthesizers import FailingSynthesizer


@pytest.mark.parametrize("body", [{"imageId": None}, None], ids=["one image", "whole scope"])
async def test_parallel_scope_regenerates_one_wins(
    client: httpx.AsyncClient, keys: Keys, body: dict[str, Any] | None
) -> None:
    url = live_url("a kite over the dunes", "race")
    first = await client.get(url)
    assert first.status_code == 200, first.text
    old_id = first.headers["x-image-id"]
    payload = {"imageId": old_id} if body is not None else None

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/live/scopes/race/regenerate", headers=keys.headers(), json=payload)
            for _ in range(5)
        )
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 4}, [r.text for r in responses if r.status_code != 409]
    codes = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert codes == {"GENERATION_IN_PROGRESS"}
    [won] = [r for r in responses if r.status_code == 200]
    new_id = won.json()["data"]["regenerated"][0]["imageId"]
    assert new_id != old_id

    moved = await client.get(url)
    assert moved.status_code == 200 and moved.headers["x-image-id"] == new_id
    assert (await client.get(f"/cdn/acme/site/img/{old_id}")).status_code == 404
    listed = await client.get("/api/v1/live/scopes/race/images", headers=keys.headers())
    assert [i["status"] for i in listed.json()["data"]] == ["ready"]


async def test_scope_regenerate_goes_on_after_a_failure(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    urls = [live_url(f"dune {i}", "dunes") for i in range(2)]
    before = [(await client.get(url)).headers["x-image-id"] for url in urls]
    runtime = app.state.runtime
    real, runtime.synthesizer = runtime.synthesizer, FailingSynthesizer("model down")
    try:
        response = await client.post("/api/v1/live/scopes/dunes/regenerate", headers=keys.headers())
    finally:
        runtime.synthesizer = real
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["regenerated"] == []
    assert sorted(f["imageId"] for f in data["failed"]) == sorted(before)
    assert {f["code"] for f in data["failed"]} == {"PROVIDER_ERROR"}
    # Nothing moved: the URLs still show their images.
    assert [(await client.get(url)).headers["x-image-id"] for url in urls] == before
