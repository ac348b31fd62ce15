"""`/api/v1/flows` and a generation's `flowId`, on SQLite and PostgreSQL (embedded providers)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Keys
from tests.support.images import solid_png

FLOWS = "/api/v1/flows"


async def generate(client: httpx.AsyncClient, keys: Keys, **body: object) -> dict[str, Any]:
    response = await client.post("/api/v1/generations", headers=keys.headers(), json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def upload(client: httpx.AsyncClient, keys: Keys, **form: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("pose.png", solid_png(64, 64, (30, 60, 200)), "image/png")},
        data=form,
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()["data"]["image"]
    return image


async def get_flow(client: httpx.AsyncClient, keys: Keys, flow_id: str) -> httpx.Response:
    return await client.get(f"{FLOWS}/{flow_id}", headers=keys.headers())


async def test_flow_id_semantics(client: httpx.AsyncClient, keys: Keys) -> None:
    started = await generate(client, keys, prompt="a fox")
    assert started["flowId"]  # omitted: a new flow, returned
    assert (await get_flow(client, keys, started["flowId"])).status_code == 200
    none = await generate(client, keys, prompt="a fox", flowId=None)
    assert none["flowId"] is None and none["outputImage"]["flowId"] is None

    named = str(uuid.uuid4())  # an agent may name its flow up front
    step = await generate(client, keys, prompt="a fox", flowId=named)
    assert step["flowId"] == named
    flow = (await get_flow(client, keys, named)).json()["data"]
    assert (flow["generationCount"], flow["imageCount"]) == (1, 1)
    assert flow["lastGeneratedAt"] == step["createdAt"]

    bad = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "x", "flowId": "nope"}
    )
    assert bad.status_code == 400 and "flowId" in bad.json()["error"]["message"]
    orphan_alias = await client.post(
        "/api/v1/generations",
        headers=keys.headers(),
        json={"prompt": "x", "flowId": None, "flowAlias": "@hero"},
    )
    assert orphan_alias.status_code == 400
    assert "flowAlias needs a flow" in orphan_alias.json()["error"]["message"]
    upload_alias = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("x.png", solid_png(8, 8, (1, 2, 3)), "image/png")},
        data={"flowAlias": "@hero"},
    )
    assert upload_alias.status_code == 400
    assert "flowAlias needs a flow" in upload_alias.json()["error"]["message"]


async def test_another_projects_flow_is_not_found(client: httpx.AsyncClient, keys: Keys) -> None:
    other = await client.post(
        "/api/admin/keys",
        headers=keys.headers("master"),
        json={"type": "project", "projectSlug": "other", "name": "other"},
    )
    other_key = {"X-API-Key": other.json()["data"]["key"]}
    theirs = await client.post(
        "/api/v1/generations", headers=other_key, json={"prompt": "a secret fox"}
    )
    flow_id = theirs.json()["data"]["flowId"]
    for method, path, body in [
        ("GET", f"{FLOWS}/{flow_id}", None),
        ("GET", f"{FLOWS}/{flow_id}/images", None),
        ("DELETE", f"{FLOWS}/{flow_id}", None),
        ("POST", "/api/v1/generations", {"prompt": "x", "flowId": flow_id}),
    ]:
        response = await client.request(method, path, headers=keys.headers(), json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "FLOW_NOT_FOUND"
    assert (await client.get(f"{FLOWS}/{flow_id}", headers=other_key)).status_code == 200


async def test_create_list_and_read_a_flow(client: httpx.AsyncClient, keys: Keys) -> None:
    hero = await upload(client, keys, alias="@brand-hero")
    made = await client.post(
        FLOWS, headers=keys.headers(), json={"aliases": {"hero": "@brand-hero"}, "meta": {"a": 1}}
    )
    assert made.status_code == 201, made.text
    flow = made.json()["data"]
    assert flow["aliases"] == {"@hero": hero["id"]}
    assert (flow["generationCount"], flow["imageCount"], flow["lastGeneratedAt"]) == (0, 0, None)
    assert flow["meta"] == {"a": 1} and flow["createdAt"]

    step = await generate(client, keys, prompt="a castle behind @hero", flowId=flow["id"])
    assert [(r["id"], r["alias"]) for r in step["referencedImages"]] == [(hero["id"], "@hero")]
    await upload(client, keys, flowId=flow["id"])
    await generate(client, keys, prompt="a fox")  # another flow

    listed = await client.get(FLOWS, headers=keys.headers(), params={"limit": 1})
    body = listed.json()
    assert body["pagination"] == {"total": 2, "limit": 1, "offset": 0, "hasMore": True}
    assert body["data"][0]["id"] != flow["id"]  # the most recently changed first
    second = await client.get(FLOWS, headers=keys.headers(), params={"limit": 1, "offset": 1})
    got = second.json()["data"][0]
    assert got["id"] == flow["id"]
    assert (got["generationCount"], got["imageCount"]) == (1, 2)
    assert got["lastGeneratedAt"] == step["createdAt"]

    generations = await client.get(f"{FLOWS}/{flow['id']}/generations", headers=keys.headers())
    assert [g["id"] for g in generations.json()["data"]] == [step["id"]]
    images = await client.get(
        f"{FLOWS}/{flow['id']}/images", headers=keys.headers(), params={"limit": 1}
    )
    assert images.json()["pagination"]["total"] == 2
    assert images.json()["pagination"]["hasMore"] is True

    for bad_id in ("nope", str(uuid.uuid4())):
        missing = await get_flow(client, keys, bad_id)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "FLOW_NOT_FOUND"


async def test_flow_aliases_merge_remove_and_shadow_project_aliases(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    first = await generate(client, keys, prompt="a knight", alias="@hero")  # project alias
    flow_id = first["flowId"]
    second = await generate(client, keys, prompt="a dragon", flowId=flow_id)
    url = f"{FLOWS}/{flow_id}/aliases"
    merged = await client.put(
        url, headers=keys.headers(), json={"aliases": {"@hero": second["outputImage"]["id"]}}
    )
    assert merged.status_code == 200, merged.text
    more = await client.put(
        url, headers=keys.headers(), json={"aliases": {"@knight": first["outputImage"]["id"]}}
    )
    assert more.json()["data"]["aliases"] == {
        "@hero": second["outputImage"]["id"],
        "@knight": first["outputImage"]["id"],
    }
    # Inside the flow @hero is the flow's; outside, the project's.
    inside = await generate(client, keys, prompt="@hero at sea", flowId=flow_id)
    assert inside["referencedImages"][0]["id"] == second["outputImage"]["id"]
    outside = await generate(client, keys, prompt="@hero at sea")
    assert outside["referencedImages"][0]["id"] == first["outputImage"]["id"]
    # Technical aliases come first: @last is the flow's latest generated image.
    last = await generate(client, keys, prompt="@last in winter", flowId=flow_id)
    assert last["referencedImages"][0]["id"] == inside["outputImage"]["id"]

    for name in ("@last", "@first", "@upload"):
        reserved = await client.put(
            url, headers=keys.headers(), json={"aliases": {name: first["outputImage"]["id"]}}
        )
        assert reserved.status_code == 400 and "reserved" in reserved.json()["error"]["message"]
    unknown = await client.put(url, headers=keys.headers(), json={"aliases": {"@x": "@nothing"}})
    assert unknown.status_code == 400 and "@nothing" in unknown.json()["error"]["message"]

    removed = await client.delete(f"{url}/@knight", headers=keys.headers())
    assert removed.status_code == 200 and "@knight" not in removed.json()["data"]["aliases"]
    again = await client.delete(f"{url}/knight", headers=keys.headers())
    assert again.status_code == 404 and again.json()["error"]["code"] == "FLOW_ALIAS_NOT_FOUND"
    cleared = await client.put(url, headers=keys.headers(), json={"aliases": {"@hero": None}})
    assert cleared.json()["data"]["aliases"] == {}


async def test_regenerate_the_last_step(client: httpx.AsyncClient, keys: Keys) -> None:
    empty = (await client.post(FLOWS, headers=keys.headers(), json={})).json()["data"]
    nothing = await client.post(f"{FLOWS}/{empty['id']}/regenerate", headers=keys.headers())
    assert nothing.status_code == 404

    first = await generate(client, keys, prompt="a fox")
    last = await generate(client, keys, prompt="a fox at night", flowId=first["flowId"])
    again = await client.post(f"{FLOWS}/{first['flowId']}/regenerate", headers=keys.headers())
    assert again.status_code == 200, again.text
    data = again.json()["data"]
    assert data["id"] == last["id"] and data["source"] == "regenerate"
    assert data["outputImage"]["id"] != last["outputImage"]["id"]


async def test_delete_keeps_only_aliased_images(client: httpx.AsyncClient, keys: Keys) -> None:
    kept = await generate(client, keys, prompt="a fox", alias="@keeper")
    flow_id = kept["flowId"]
    dropped = await generate(client, keys, prompt="a fox at night", flowId=flow_id, flowAlias="@n")
    uploaded = await upload(client, keys, flowId=flow_id)
    other = await generate(client, keys, prompt="a bear")

    deleted = await client.delete(f"{FLOWS}/{flow_id}", headers=keys.headers())
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {
        "id": flow_id,
        "deleted": True,
        "generationsDeleted": 2,
        "imagesDeleted": 2,
        "imagesKept": [kept["outputImage"]["id"]],
    }
    assert (await get_flow(client, keys, flow_id)).status_code == 404
    for generation in (kept, dropped):
        got = await client.get(f"/api/v1/generations/{generation['id']}", headers=keys.headers())
        assert got.status_code == 404
    for image_id in (dropped["outputImage"]["id"], uploaded["id"]):
        got = await client.get(f"/api/v1/images/{image_id}", headers=keys.headers())
        assert got.status_code == 404
        blob = await client.get(f"/cdn/acme/site/img/{image_id}")
        assert blob.status_code == 404
    survivor = await client.get("/api/v1/images/@keeper", headers=keys.headers())
    assert survivor.status_code == 200 and survivor.json()["data"]["flowId"] is None
    assert (await client.get("/cdn/acme/site/img/@keeper")).status_code == 200
    untouched = await client.get(f"/api/v1/generations/{other['id']}", headers=keys.headers())
    assert untouched.status_code == 200
