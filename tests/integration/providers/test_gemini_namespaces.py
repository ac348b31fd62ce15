"""A namespace's style through the Gemini adapters: what the wire-format server receives."""

from __future__ import annotations

import httpx

from tests.conftest import Keys
from tests.integration.providers.support import generate, upload
from tests.support.gemini_server import GeminiServer
from tests.support.images import solid_png

STYLE = "flat vector, pastel palette, thick outlines"


async def test_namespace_style_rules_and_style_images_reach_gemini(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    swatch_png = solid_png(48, 48, (250, 180, 200))
    logo_png = solid_png(40, 40, (0, 90, 200))
    swatch = await upload(client, keys, swatch_png, "@swatch")
    await upload(client, keys, logo_png, "@logo")
    created = await client.post(
        "/api/v1/namespaces",
        headers=keys.headers(),
        json={
            "slug": "brand",
            "stylePrompt": STYLE,
            "systemPrompt": "Never show people.",
            "negativePrompt": "text, watermark",
            "styleImages": [swatch["id"]],
            "template": "illustration",
            "aspectRatio": "3:2",
        },
    )
    assert created.status_code == 201, created.text
    gemini_server.reset()

    response = await generate(client, keys, prompt="a mug with @logo", namespace="brand")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert [(r["alias"], r["role"]) for r in data["referencedImages"]] == [
        ("@logo", "reference"),
        (None, "style"),
    ]

    (enhance,) = gemini_server.requests_of("enhance")
    instruction = enhance.system_instruction or ""
    assert STYLE in instruction and "Never show people." in instruction
    assert "Template: Illustration" in instruction
    assert "Reference images sent with the prompt: @logo" in instruction

    (image,) = gemini_server.requests_of("image")
    assert image.system_instruction is None  # image models take none: all of it is in the text
    assert image.prompt == f"{data['prompt']}\n\nStyle: {STYLE}\n\nAvoid: text, watermark"
    assert image.aspect_ratio == "3:2"
    assert image.texts[1:] == [
        "Reference image 1: @logo",
        "Style reference 2: match its palette and rendering, not its content",
    ]
    assert [i.data for i in image.images] == [logo_png, swatch_png]


async def test_without_enhancement_the_style_is_still_in_the_image_prompt(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    await client.post(
        "/api/v1/namespaces", headers=keys.headers(), json={"slug": "brand", "stylePrompt": STYLE}
    )
    gemini_server.reset()
    response = await generate(client, keys, prompt="a fox", namespace="brand", autoEnhance=False)
    assert response.status_code == 201, response.text
    (image,) = gemini_server.requests_of("image")
    assert image.prompt == f"a fox\n\nStyle: {STYLE}"
    assert gemini_server.requests_of("enhance") == []
