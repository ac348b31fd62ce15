"""A four-step character flow with the embedded providers, on SQLite and PostgreSQL: create the
character; `@last` in a new pose; a flow alias; an upload referenced as `@upload`. Each step's
references, the prompt sent to the model and `flowContext` are checked."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Keys
from tests.support.images import solid_png

CHARACTER = "a red fox wizard with a blue hat in a snowy forest"
MEMORY = f"Same subject, palette and style as earlier in this flow: {CHARACTER}."


async def step(client: httpx.AsyncClient, keys: Keys, **body: object) -> dict[str, Any]:
    response = await client.post("/api/v1/generations", headers=keys.headers(), json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def refs(data: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["id"], r["alias"]) for r in data["referencedImages"]]


async def test_four_step_character_flow(client: httpx.AsyncClient, keys: Keys) -> None:
    # A project image that holds @hero too: inside the flow, the flow's @hero wins.
    outsider = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("other.png", solid_png(32, 32, (9, 9, 9)), "image/png")},
        data={"alias": "@hero"},
    )
    assert outsider.status_code == 201, outsider.text

    # 1. The character. No earlier step: no context.
    first = await step(client, keys, prompt=CHARACTER)
    flow_id, first_image = first["flowId"], first["outputImage"]["id"]
    assert refs(first) == [] and first["flowContext"] is None
    assert first["prompt"].startswith(CHARACTER) and "earlier in this flow" not in first["prompt"]

    # 2. @last in a new pose: the first image is passed, the first prompt remembered.
    second = await step(client, keys, prompt="@last now sitting, seen from behind", flowId=flow_id)
    second_image = second["outputImage"]["id"]
    assert refs(second) == [(first_image, "@last")]
    assert second["prompt"].startswith(f"@last now sitting, seen from behind. {MEMORY}")
    context = second["flowContext"]
    assert context["flowId"] == flow_id
    assert context["earlierPrompts"] == [CHARACTER]
    assert context["last"]["imageId"] == first_image
    assert context["last"]["generationId"] == first["id"]
    assert (
        context["last"]["description"] == first["outputImage"]["description"]
        or first["outputImage"]["altText"]
    )
    assert context["lastPassedAsReference"] is True and context["usedByEnhancer"] is True

    # 3. A flow alias: @hero names the first image inside this flow.
    aliased = await client.put(
        f"/api/v1/flows/{flow_id}/aliases",
        headers=keys.headers(),
        json={"aliases": {"@hero": first_image}},
    )
    assert aliased.status_code == 200, aliased.text
    third = await step(client, keys, prompt="@hero waving at night", flowId=flow_id)
    assert refs(third) == [(first_image, "@hero")]
    assert MEMORY in third["prompt"]
    context = third["flowContext"]
    assert context["earlierPrompts"] == [CHARACTER, "@last now sitting, seen from behind"]
    assert context["last"]["imageId"] == second_image
    assert context["lastPassedAsReference"] is False  # @hero is the first image, not the last

    # 4. An upload into the flow, referenced as @upload.
    hat = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("hat.png", solid_png(48, 48, (30, 60, 220)), "image/png")},
        data={"flowId": flow_id},
    )
    assert hat.status_code == 201, hat.text
    hat_id = hat.json()["data"]["image"]["id"]
    fourth = await step(
        client, keys, prompt="the wizard wearing the hat of @upload", flowId=flow_id
    )
    assert refs(fourth) == [(hat_id, "@upload")]
    assert MEMORY in fourth["prompt"]
    context = fourth["flowContext"]
    assert context["earlierPrompts"] == [
        CHARACTER,
        "@last now sitting, seen from behind",
        "@hero waving at night",
    ]
    assert context["last"]["imageId"] == third["outputImage"]["id"]
    assert context["lastPassedAsReference"] is False

    # The context is stored: GET shows what the step was made with.
    got = await client.get(f"/api/v1/generations/{fourth['id']}", headers=keys.headers())
    assert got.json()["data"]["flowContext"] == context
    flow = (await client.get(f"/api/v1/flows/{flow_id}", headers=keys.headers())).json()["data"]
    assert (flow["generationCount"], flow["imageCount"]) == (4, 5)
    assert flow["aliases"] == {"@hero": first_image}


async def test_without_enhancement_the_context_is_recorded_but_not_used(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    first = await step(client, keys, prompt=CHARACTER)
    second = await step(
        client, keys, prompt="now from behind", flowId=first["flowId"], autoEnhance=False
    )
    assert second["prompt"] == "now from behind"
    assert second["flowContext"]["usedByEnhancer"] is False
    assert second["flowContext"]["earlierPrompts"] == [CHARACTER]
    outside = await step(client, keys, prompt="now from behind", flowId=None)
    assert outside["flowContext"] is None
