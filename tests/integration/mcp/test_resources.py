"""Resources (the project's aliased images, any image by id or alias) and prompts."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from mcp import MCPError
from mcp.types import TextResourceContents

from tests.integration.mcp.conftest import LOGO, McpServer, connect
from tests.integration.mcp.test_http import data, rest

pytestmark = pytest.mark.slow


async def test_aliased_images_are_resources_of_their_project_only(mcp_server: McpServer) -> None:
    alias = f"@res-{uuid.uuid4().hex[:8]}"
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        logo = data(
            await client.call_tool(
                "upload_image", {"data": base64.b64encode(LOGO).decode(), "alias": alias}
            )
        )["image"]
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        read = await client.read_resource(f"banatie://images/{alias}")
        by_id = await client.read_resource(f"banatie://images/{logo['id']}")
        templates = (await client.list_resource_templates()).resource_templates
        with pytest.raises(MCPError) as missing:
            await client.read_resource("banatie://images/@no-such-alias")
    async with connect(mcp_server.mcp_url, mcp_server.throttled_key) as other:
        others = {str(r.uri) for r in (await other.list_resources()).resources}
        with pytest.raises(MCPError):
            await other.read_resource(f"banatie://images/{alias}")
    assert f"banatie://images/{alias}" in listed
    assert listed[f"banatie://images/{alias}"].mime_type == "application/json"
    content = read.contents[0]
    assert isinstance(content, TextResourceContents)
    image = json.loads(content.text)
    assert image["id"] == logo["id"] and image["imgTag"].startswith("<img ")
    assert json.loads(by_id.contents[0].text)["alias"] == alias  # type: ignore[union-attr]
    assert [t.uri_template for t in templates] == [
        "banatie://images/{ref}",
        "banatie://namespaces/{slug}",
    ]
    assert "IMAGE_NOT_FOUND" in str(missing.value)
    assert f"banatie://images/{alias}" not in others


async def test_prompts_guide_the_agent_through_the_tools(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        hero = await client.get_prompt("page_hero_image", {"page": "a bakery's landing page"})
        icons = await client.get_prompt(
            "icon_set", {"icons": "Shopping cart, search, user", "style": "line art"}
        )
    assert {"page_hero_image", "icon_set"} <= names
    hero_text = hero.messages[0].content.text  # type: ignore[union-attr]
    assert "a bakery's landing page" in hero_text and '"16:9"' in hero_text
    assert "generate_image" in hero_text and "pictureTag" in hero_text
    icons_text = icons.messages[0].content.text  # type: ignore[union-attr]
    assert "@icon-shopping-cart" in icons_text and "line art" in icons_text


async def test_namespace_style_guides_are_resources(mcp_server: McpServer) -> None:
    slug = f"guide-{uuid.uuid4().hex[:6]}"
    alias = f"@swatch-{uuid.uuid4().hex[:6]}"
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        swatch = data(
            await client.call_tool(
                "upload_image", {"data": base64.b64encode(LOGO).decode(), "alias": alias}
            )
        )["image"]
        with rest(mcp_server) as api:
            made = api.post(
                "/namespaces",
                json={
                    "slug": slug,
                    "name": "Guide book",
                    "stylePrompt": "watercolour, muted greens",
                    "negativePrompt": "text",
                    "systemPrompt": "Never show people.",
                    "styleImages": [alias],
                    "template": "illustration",
                },
            )
            assert made.status_code == 201, made.text
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        read = await client.read_resource(f"banatie://namespaces/{slug}")
        with pytest.raises(MCPError) as missing:
            await client.read_resource("banatie://namespaces/no-such-style")
    async with connect(mcp_server.mcp_url, mcp_server.throttled_key) as other:
        others = {str(r.uri) for r in (await other.list_resources()).resources}
        with pytest.raises(MCPError):
            await other.read_resource(f"banatie://namespaces/{slug}")
    uri = f"banatie://namespaces/{slug}"
    assert listed[uri].mime_type == "text/markdown" and "Guide book" in str(listed[uri].title)
    guide = read.contents[0]
    assert isinstance(guide, TextResourceContents) and guide.mime_type == "text/markdown"
    assert guide.text.startswith(f"# Style guide: Guide book (namespace `{slug}`)")
    for part in ("watercolour, muted greens", "Avoid: text", "illustration", "Never show people."):
        assert part in guide.text
    assert f"{alias}: {swatch['url']}" in guide.text
    assert f'namespace: "{slug}"' in guide.text
    assert "NAMESPACE_NOT_FOUND" in str(missing.value)
    assert uri not in others
