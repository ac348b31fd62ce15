"""One table of parameter values, driven through `POST /generations` and a live URL: both
surfaces accept and refuse exactly the same values, and store an accepted one spelled the same.
(Limits come from the live conftest: generous.)"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import Keys

ACCEPTED = "accepted"
REFUSED = "refused"

# (field, value, outcome, stored value when accepted (None: not checked))
CASES: list[tuple[str, str, str, str | None]] = [
    ("aspectRatio", "16:9", ACCEPTED, "16:9"),
    ("aspectRatio", "16x9", ACCEPTED, "16:9"),
    ("aspectRatio", " 16/9 ", ACCEPTED, "16:9"),
    ("aspectRatio", "9X16", ACCEPTED, "9:16"),
    ("aspectRatio", "2:1", REFUSED, None),
    ("aspectRatio", "1:8", REFUSED, None),  # not in the local model's row
    ("aspectRatio", "wide", REFUSED, None),
    ("aspectRatio", "", REFUSED, None),
    ("imageSize", "2K", ACCEPTED, "2K"),
    ("imageSize", "2k", ACCEPTED, "2K"),
    ("imageSize", "0.5K", ACCEPTED, "512"),
    ("imageSize", "8K", REFUSED, None),
    ("imageSize", "huge", REFUSED, None),
    ("template", "comic", ACCEPTED, "comic"),
    ("template", "Comic", ACCEPTED, "comic"),
    ("template", " STICKER ", ACCEPTED, "sticker"),
    ("template", "", ACCEPTED, None),
    ("template", "nope", REFUSED, None),
    ("namespace", "", ACCEPTED, None),
    ("namespace", "no spaces", REFUSED, None),
    ("prompt", "   ", REFUSED, None),
    ("prompt", "x" * 5001, REFUSED, None),
    ("prompt", "  a fox  ", ACCEPTED, None),
]


async def _api(client: httpx.AsyncClient, keys: Keys, params: dict[str, str]) -> httpx.Response:
    return await client.post("/api/v1/generations", headers=keys.headers(), json=params)


async def _live(client: httpx.AsyncClient, keys: Keys, params: dict[str, str]) -> httpx.Response:
    query = urlencode(params)
    return await client.get(f"/cdn/acme/site/live/rules?{query}")


@pytest.mark.parametrize(("field", "value", "outcome", "stored"), CASES)
async def test_api_and_live_url_agree(
    client: httpx.AsyncClient,
    keys: Keys,
    field: str,
    value: str,
    outcome: str,
    stored: str | None,
) -> None:
    params = {"prompt": "a red fox", field: value}
    api = await _api(client, keys, params)
    live = await _live(client, keys, params)
    if outcome == REFUSED:
        assert api.status_code == 400, api.text
        assert live.status_code == 400, live.text
        assert api.json()["error"]["code"] == live.json()["error"]["code"] == "VALIDATION_ERROR"
        return
    assert api.status_code == 201, api.text
    assert live.status_code == 200, live.text
    by_api = api.json()["data"]
    by_live = (
        await client.get(
            f"/api/v1/generations/{live.headers['x-generation-id']}", headers=keys.headers()
        )
    ).json()["data"]
    assert by_api["originalPrompt"] == by_live["originalPrompt"]
    assert by_api["aspectRatio"] == by_live["aspectRatio"]
    assert by_api["imageSize"] == by_live["imageSize"]
    # A template left out is stored as none by the API and as the default by a live URL.
    assert (by_api["template"] or "general") == (by_live["template"] or "general")
    if stored is not None:
        assert by_api[field] == stored
