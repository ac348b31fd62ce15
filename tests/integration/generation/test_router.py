"""`/api/v1/generations` end to end on SQLite and PostgreSQL with the embedded providers."""

from __future__ import annotations

import httpx
import pytest
import pyvips

from tests.conftest import Keys
from tests.support.images import solid_png


async def generate(client: httpx.AsyncClient, keys: Keys, **body: object) -> httpx.Response:
    return await client.post("/api/v1/generations", headers=keys.headers(), json=body)


async def test_generate_returns_a_stored_analysed_image(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    response = await generate(
        client, keys, prompt="a red fox in a snowy forest", aspectRatio="16:9"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["status"] == "success"
    assert data["originalPrompt"] == "a red fox in a snowy forest"
    assert data["prompt"] != data["originalPrompt"]  # autoEnhance defaults to true
    assert data["autoEnhance"] is True
    assert data["flowId"]  # omitted flowId starts a new flow
    image = data["outputImage"]
    assert (image["width"], image["height"]) == (1344, 768)
    assert image["mimeType"] == "image/png"
    assert 0 <= image["focalPoint"]["x"] <= 1 and 0 <= image["focalPoint"]["y"] <= 1
    assert image["altText"] and image["placeholderHash"] and image["dominantColors"]
    assert image["storageUrl"] == f"http://testserver/cdn/acme/site/img/{image['id']}"
    assert set(data["variants"]) >= {"thumbnail", "card", "hero", "og", "avatar", "original"}

    fetched = await client.get(image["storageUrl"].removeprefix("http://testserver"))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    decoded = pyvips.Image.new_from_buffer(fetched.content, "")
    assert (decoded.width, decoded.height) == (1344, 768)


async def test_same_request_gives_same_bytes(client: httpx.AsyncClient, keys: Keys) -> None:
    first = (await generate(client, keys, prompt="lighthouse at dusk", autoEnhance=False)).json()
    second = (await generate(client, keys, prompt="lighthouse at dusk", autoEnhance=False)).json()
    assert first["data"]["prompt"] == "lighthouse at dusk"
    assert first["data"]["outputImage"]["fileHash"] == second["data"]["outputImage"]["fileHash"]
    assert first["data"]["outputImage"]["id"] != second["data"]["outputImage"]["id"]


async def test_get_list_delete_and_regenerate(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await generate(client, keys, prompt="blue whale", alias="@whale")).json()["data"]
    gen_id = created["id"]
    got = await client.get(f"/api/v1/generations/{gen_id}", headers=keys.headers())
    assert got.status_code == 200 and got.json()["data"]["id"] == gen_id

    listed = await client.get("/api/v1/generations?limit=1", headers=keys.headers())
    assert listed.json()["pagination"] == {"total": 1, "limit": 1, "offset": 0, "hasMore": False}

    regenerated = await client.post(
        f"/api/v1/generations/{gen_id}/regenerate", headers=keys.headers()
    )
    assert regenerated.status_code == 200, regenerated.text
    new_image = regenerated.json()["data"]["outputImage"]
    assert new_image["id"] != created["outputImage"]["id"]
    assert new_image["alias"] == "@whale"  # the alias follows the newest output
    by_alias = await client.get("/api/v1/images/@whale", headers=keys.headers())
    assert by_alias.json()["data"]["id"] == new_image["id"]

    deleted = await client.delete(f"/api/v1/generations/{gen_id}", headers=keys.headers())
    assert deleted.status_code == 200
    assert deleted.json()["data"]["outputImageDeleted"] is False  # aliased images are kept
    missing = await client.get(f"/api/v1/generations/{gen_id}", headers=keys.headers())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "GENERATION_NOT_FOUND"


async def test_delete_removes_unaliased_output(client: httpx.AsyncClient, keys: Keys) -> None:
    created = (await generate(client, keys, prompt="green hills")).json()["data"]
    response = await client.delete(f"/api/v1/generations/{created['id']}", headers=keys.headers())
    assert response.json()["data"]["outputImageDeleted"] is True
    image = await client.get(
        f"/api/v1/images/{created['outputImage']['id']}", headers=keys.headers()
    )
    assert image.status_code == 404
    cdn = await client.get(f"/cdn/acme/site/img/{created['outputImage']['id']}")
    assert cdn.status_code == 404


async def test_alias_references_reach_the_synthesizer(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    logo = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("logo.png", solid_png(80, 80, (255, 0, 255)), "image/png")},
        data={"alias": "@logo"},
    )
    assert logo.status_code == 201, logo.text
    logo_id = logo.json()["data"]["image"]["id"]
    response = await generate(
        client, keys, prompt="a poster with @logo on a wall", autoEnhance=False
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [r["id"] for r in data["referencedImages"]] == [logo_id]
    assert data["referencedImages"][0]["alias"] == "@logo"
    # The local synthesizer composites references visibly: magenta pixels are in the output.
    out = await client.get(data["outputImage"]["storageUrl"].removeprefix("http://testserver"))
    image = pyvips.Image.new_from_buffer(out.content, "")[0:3]
    magenta = (image[0] > 230) & (image[1] < 30) & (image[2] > 230)
    assert magenta.avg() > 0


async def test_explicit_references_come_first_and_dedupe(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    ids = []
    for name, rgb in (("a", (255, 0, 0)), ("b", (0, 255, 0))):
        r = await client.post(
            "/api/v1/images/upload",
            headers=keys.headers(),
            files={"file": (f"{name}.png", solid_png(rgb=rgb), "image/png")},
            data={"alias": name},
        )
        ids.append(r.json()["data"]["image"]["id"])
    response = await generate(
        client, keys, prompt="@a and @b together", referenceImages=[ids[1], "@a"]
    )
    data = response.json()["data"]
    assert [r["id"] for r in data["referencedImages"]] == [ids[1], ids[0]]


async def test_flow_technical_aliases(client: httpx.AsyncClient, keys: Keys) -> None:
    first = (await generate(client, keys, prompt="a castle")).json()["data"]
    flow_id = first["flowId"]
    second = await generate(
        client, keys, prompt="make @last at night", flowId=flow_id, flowAlias="@night"
    )
    assert second.status_code == 201, second.text
    assert second.json()["data"]["referencedImages"][0]["id"] == first["outputImage"]["id"]
    third = await generate(client, keys, prompt="@night in winter", flowId=flow_id)
    assert (
        third.json()["data"]["referencedImages"][0]["id"]
        == second.json()["data"]["outputImage"]["id"]
    )
    # Outside the flow, the flow alias does not exist.
    outside = await generate(client, keys, prompt="@night again", flowId=None)
    assert outside.status_code == 400
    assert "@night" in outside.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 5001}, "5000"),
        ({"prompt": "cat", "aspectRatio": "7:3"}, "aspectRatio"),
        ({"prompt": "cat", "template": "baroque"}, "template"),
        ({"prompt": "cat", "referenceImages": ["@a", "@b", "@c", "@d"]}, "at most 3"),
        ({"prompt": "cat with @nobody"}, "@nobody"),
        ({"prompt": "cat", "alias": "bad alias!"}, "alias"),
        ({"prompt": "cat", "flowId": "not-a-uuid"}, "flowId"),
        ({"prompt": "cat", "unexpected": 1}, "unexpected"),
        ({"prompt": 12}, "prompt"),
    ],
)
async def test_bad_input_is_a_clear_400(
    client: httpx.AsyncClient, keys: Keys, body: dict[str, object], fragment: str
) -> None:
    response = await client.post("/api/v1/generations", headers=keys.headers(), json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert fragment in error["message"]


async def test_malformed_json_is_a_400(client: httpx.AsyncClient, keys: Keys) -> None:
    response = await client.post(
        "/api/v1/generations",
        headers={**keys.headers(), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_failed_generation_is_recorded_and_uncharged(
    client: httpx.AsyncClient, keys: Keys, app: object
) -> None:
    from tests.support.synthesizers import FailingSynthesizer

    runtime = app.state.runtime  # type: ignore[attr-defined]
    runtime.synthesizer = FailingSynthesizer("model unavailable")
    response = await generate(client, keys, prompt="anything")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "PROVIDER_ERROR"
    listed = (await client.get("/api/v1/generations", headers=keys.headers())).json()
    assert [g["status"] for g in listed["data"]] == ["failed"]
    assert listed["data"][0]["errorMessage"] == "model unavailable"
    images = (await client.get("/api/v1/images", headers=keys.headers())).json()
    assert images["pagination"]["total"] == 0


async def test_flow_aliases_say_why_they_name_nothing(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    """`@last` with no image in the flow says that, not that it needs a flowId it was given."""
    first = await generate(client, keys, prompt="a castle")
    flow_id = first.json()["data"]["flowId"]
    in_flow = await generate(client, keys, prompt="@upload at night", flowId=flow_id)
    assert in_flow.status_code == 400
    message = in_flow.json()["error"]["message"]
    assert f"flow {flow_id}" in message and "no uploaded image yet" in message, message
    assert "needs a flowId" not in message
    assert in_flow.json()["error"]["details"] == {"alias": "@upload"}

    new_flow = await generate(client, keys, prompt="@last at night")
    assert "no generated image yet" in new_flow.json()["error"]["message"]
    assert "new, empty flow" in new_flow.json()["error"]["message"]

    no_flow = await generate(client, keys, prompt="@first at night", flowId=None)
    assert "flowId null" in no_flow.json()["error"]["message"]
