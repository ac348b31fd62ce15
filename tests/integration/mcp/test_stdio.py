"""`banatie mcp` (stdio) in front of the running server, driven by the SDK's client, which
launches the command itself as an MCP host does."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid

import pytest
from mcp import Client, StdioServerParameters

from tests.integration.mcp.conftest import LOGO, McpServer
from tests.integration.mcp.test_http import TOOLS, data, error

pytestmark = pytest.mark.slow


def command(url: str, key: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "banatie.cli", "mcp", "--url", url, "--api-key", key],
        env=env,
    )


async def test_stdio_serves_the_tools_and_continues_a_flow(mcp_server: McpServer) -> None:
    alias = f"@stdio-{uuid.uuid4().hex[:6]}"
    async with Client(command(mcp_server.base_url, mcp_server.key)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        first = data(
            await client.call_tool(
                "generate_image", {"prompt": "a paper boat", "alias": alias, "newFlow": True}
            )
        )
        second = data(await client.call_tool("generate_image", {"prompt": "in the rain, @last"}))
        url = data(await client.call_tool("transform_url", {"image": alias, "width": 200}))
        missing = error(await client.call_tool("get_image", {"image": "@no-such-image"}))
    assert names >= TOOLS
    assert second["flowId"] == first["flowId"]
    assert second["referencedImages"] == [first["image"]["id"]]
    assert url["url"].endswith(f"/img/{first['image']['id']}?w=200")
    assert missing["code"] == "IMAGE_NOT_FOUND"


async def test_stdio_uploads_builds_live_urls_and_reports_api_errors(
    mcp_server: McpServer,
) -> None:
    alias = f"@stdio-logo-{uuid.uuid4().hex[:6]}"
    async with Client(command(mcp_server.base_url, mcp_server.key)) as client:
        logo = data(
            await client.call_tool(
                "upload_image", {"data": base64.b64encode(LOGO).decode(), "alias": alias}
            )
        )["image"]
        mug = data(await client.call_tool("generate_image", {"prompt": f"a mug with {alias}"}))
        live = data(
            await client.call_tool("live_image_url", {"prompt": "a calm sea", "scope": "stdio"})
        )
        unknown = error(
            await client.call_tool("generate_image", {"prompt": "a cup with @nosuchalias"})
        )
    async with Client(command(mcp_server.base_url, mcp_server.exhausted_key)) as client:
        quota = error(await client.call_tool("generate_image", {"prompt": "a tree"}))
    assert logo["alias"] == alias and (logo["width"], logo["height"]) == (96, 64)
    assert mug["referencedImages"] == [logo["id"]]
    assert "/live/stdio?" in live["url"] and live["imgTag"].startswith("<img src=")
    assert "@nosuchalias" in unknown["message"] and unknown["status"] in (400, 404)
    assert quota["code"] == "QUOTA_EXCEEDED" and quota["status"] == 429


def test_stdio_with_a_bad_key_says_so_and_exits(mcp_server: McpServer) -> None:
    params = command(mcp_server.base_url, "bnt_" + "y" * 43)
    done = subprocess.run(
        [params.command, *params.args], env=params.env, input="", capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "refused the API key (UNAUTHORIZED: invalid API key)" in done.stderr
    assert done.stdout == ""  # nothing on the protocol channel


def test_stdio_reads_url_and_key_from_the_environment(mcp_server: McpServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env |= {"BANATIE_URL": mcp_server.base_url, "BANATIE_API_KEY": "bnt_" + "z" * 43}
    done = subprocess.run(
        [sys.executable, "-m", "banatie.cli", "mcp"], env=env, input="", capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and mcp_server.base_url in done.stderr
    assert "UNAUTHORIZED" in done.stderr


async def test_stdio_passes_resources_and_prompts_through(mcp_server: McpServer) -> None:
    async with Client(command(mcp_server.base_url, mcp_server.key)) as client:
        templates = (await client.list_resource_templates()).resource_templates
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        hero = await client.get_prompt("page_hero_image", {"page": "a blog"})
    assert [t.uri_template for t in templates] == [
        "banatie://images/{ref}",
        "banatie://namespaces/{slug}",
    ]
    assert {"page_hero_image", "icon_set"} <= prompts
    assert "a blog" in hero.messages[0].content.text  # type: ignore[union-attr]
