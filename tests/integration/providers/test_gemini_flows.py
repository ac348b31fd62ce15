"""A flow's memory through the Gemini adapters: what the wire-format server receives."""

from __future__ import annotations

import httpx

from tests.conftest import Keys
from tests.integration.providers.support import generate
from tests.support.gemini_server import GeminiServer

CHARACTER = "a red fox wizard with a blue hat"


async def test_a_step_tells_the_enhancer_its_flow_and_passes_the_named_earlier_image(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    first = (await generate(client, keys, prompt=CHARACTER)).json()["data"]
    assert first["flowContext"] is None
    (first_enhance,) = gemini_server.requests_of("enhance")
    assert "next step of a flow" not in (first_enhance.system_instruction or "")
    first_png = await client.get(
        first["outputImage"]["storageUrl"].removeprefix("http://testserver")
    )
    gemini_server.reset()

    response = await generate(
        client, keys, prompt="@last now seen from behind", flowId=first["flowId"]
    )
    assert response.status_code == 201, response.text
    second = response.json()["data"]

    (enhance,) = gemini_server.requests_of("enhance")
    assert enhance.prompt == "@last now seen from behind"
    instruction = enhance.system_instruction or ""
    assert f"Earlier prompts of the flow, oldest first:\n1. {CHARACTER}" in instruction
    description = first["outputImage"]["description"]
    assert description and f"The latest image of the flow (@last) shows: {description}" in (
        instruction
    )
    assert "keeps the subject (its identity and look), palette and style" in instruction

    (image,) = gemini_server.requests_of("image")
    assert [i.data for i in image.images] == [first_png.content]  # the prompt names @last

    context = second["flowContext"]
    assert context["earlierPrompts"] == [CHARACTER]
    assert context["last"] == {
        "generationId": first["id"],
        "imageId": first["outputImage"]["id"],
        "description": description,
    }
    assert context["lastPassedAsReference"] is True and context["usedByEnhancer"] is True

    # Not named, the earlier image stays out; the enhancer still remembers it.
    gemini_server.reset()
    third = (
        await generate(client, keys, prompt="the same wizard at night", flowId=first["flowId"])
    ).json()["data"]
    (image,) = gemini_server.requests_of("image")
    assert image.images == []
    assert third["flowContext"]["lastPassedAsReference"] is False
    assert third["flowContext"]["last"]["imageId"] == second["outputImage"]["id"]
    (enhance,) = gemini_server.requests_of("enhance")
    assert "2. @last now seen from behind" in (enhance.system_instruction or "")
