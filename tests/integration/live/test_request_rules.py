"""One table of parameter values, driven through `POST /generations` and a live URL: both
surfaces accept and refuse exactly the same values (with the same status and code), and store
an accepted one spelled the same. (Limits come from the live conftest: generous.)"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import Keys

ACCEPTED = "accepted"
INVALID = (400, "VALIDATION_ERROR")
NO_NAMESPACE = (404, "NAMESPACE_NOT_FOUND")

# (field, value, outcome: ACCEPTED or (status, code), stored value when accepted (None: not
# checked)). The project has one namespace, `brand`.
CASES: list[tuple[str, str, str | tuple[int, str], str | None]] = [
    ("aspectRatio", "16:9", ACCEPTED, "16:9"),
    ("aspectRatio", "16x9", ACCEPTED, "16:9"),
    ("aspectRatio", " 16/9 ", ACCEPTED, "16:9"),
    ("aspectRatio", "9X16", ACCEPTED, "9:16"),
    ("aspectRatio", "1:1", ACCEPTED, "1:1"),
    ("aspectRatio", "2:1", INVALID, None),
    ("aspectRatio", "1:8", INVALID, None),  # not in the local model's row
    ("aspectRatio", "wide", INVALID, None),
    ("aspectRatio", "16:9:1", INVALID, None),
    ("aspectRatio", "", INVALID, None),
    ("imageSize", "2K", ACCEPTED, "2K"),
    ("imageSize", "2k", ACCEPTED, "2K"),
    ("imageSize", "0.5K", ACCEPTED, "512"),
    ("imageSize", "8K", INVALID, None),
    ("imageSize", "huge", INVALID, None),
    ("template", "comic", ACCEPTED, "comic"),
    ("template", "Comic", ACCEPTED, "comic"),
    ("template", " STICKER ", ACCEPTED, "sticker"),
    ("template", "photorealistic", ACCEPTED, "photorealistic"),
    ("template", "", ACCEPTED, None),
    ("template", "nope", INVALID, None),
    ("template", "comic!", INVALID, None),
    ("namespace", "", ACCEPTED, None),
    ("namespace", "brand", ACCEPTED, "brand"),
    ("namespace", "Brand", ACCEPTED, "brand"),
    ("namespace", "@brand", ACCEPTED, "brand"),
    ("namespace", "other", NO_NAMESPACE, None),
    ("namespace", "no spaces", INVALID, None),
    ("namespace", "x" * 70, INVALID, None),
    ("prompt", "   ", INVALID, None),
    ("prompt", "\n\t", INVALID, None),
    ("prompt", "x" * 5001, INVALID, None),
    ("prompt", "x" * 5000, ACCEPTED, None),
    ("prompt", "  a fox  ", ACCEPTED, None),
    ("prompt", "ein roter Fuchs im Schnee", ACCEPTED, None),
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
    outcome: str | tuple[int, str],
    stored: str | None,
) -> None:
    made = await client.post(
        "/api/v1/namespaces",
        headers=keys.headers(),
        json={"slug": "brand", "stylePrompt": "flat colours"},
    )
    assert made.status_code == 201, made.text
    params = {"prompt": "a red fox", field: value}
    api = await _api(client, keys, params)
    live = await _live(client, keys, params)
    if not isinstance(outcome, str):  # refused: (status, code)
        status, code = outcome
        assert api.status_code == status, api.text
        assert live.status_code == status, live.text
        assert api.json()["error"]["code"] == live.json()["error"]["code"] == code
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
    assert by_api["namespace"] == by_live["namespace"]
    # A template left out is stored as none by the API and as the default by a live URL.
    assert (by_api["template"] or "general") == (by_live["template"] or "general")
    if stored is not None:
        assert by_api[field] == stored


# autoEnhance is a JSON boolean in the API and text in a URL: the same words mean the same.
FLAGS: list[tuple[str, bool | None]] = [
    ("true", True),
    ("false", False),
    ("0", False),
    ("1", True),
    ("no", False),
    ("Yes", True),
    ("off", False),
    ("maybe", None),
]


@pytest.mark.parametrize(("value", "meaning"), FLAGS)
async def test_auto_enhance_words_agree(
    client: httpx.AsyncClient, keys: Keys, value: str, meaning: bool | None
) -> None:
    api = await _api(client, keys, {"prompt": "a red fox", "autoEnhance": value})
    live = await _live(client, keys, {"prompt": "a red fox", "autoEnhance": value})
    if meaning is None:
        assert api.status_code == live.status_code == 400, (api.text, live.text)
        assert api.json()["error"]["code"] == live.json()["error"]["code"] == "VALIDATION_ERROR"
        return
    assert api.status_code == 201 and live.status_code == 200, (api.text, live.text)
    by_live = (
        await client.get(
            f"/api/v1/generations/{live.headers['x-generation-id']}", headers=keys.headers()
        )
    ).json()["data"]
    assert api.json()["data"]["autoEnhance"] is by_live["autoEnhance"] is meaning
