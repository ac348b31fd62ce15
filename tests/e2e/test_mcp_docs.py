"""docs/mcp.md's stdio command line, taken literally from the doc (only the server's URL, the
key and the checkout folder filled in), launched by the mcp SDK's client as an MCP host would,
against a running `banatie serve`; and its HTTP URL, as `/api/info` advertises it."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "mcp.md").read_text()
STDIO_LINE = "claude mcp add banatie -- "


def documented(line_start: str) -> str:
    lines = [line for line in DOC.splitlines() if line.startswith(line_start)]
    assert len(lines) == 1, f"docs/mcp.md should have one line starting {line_start!r}"
    return lines[0]


def filled(text: str, server: Server) -> str:
    return (
        text.replace("http://localhost:8000", server.base_url)
        .replace("bnt_…", server.key)
        .replace("$PWD", str(ROOT))
    )


async def test_the_documented_stdio_command_works(running_server: Server) -> None:
    line = filled(documented(STDIO_LINE), running_server)
    argv = shlex.split(line.split(" -- ", 1)[1])
    assert argv[1:3] == ["mcp", "--url"] and Path(argv[0]).name == "banatie"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    params = StdioServerParameters(command=argv[0], args=argv[1:], env=env)
    async with Client(params) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        usage = await client.call_tool("get_usage", {})
    assert {"generate_image", "upload_image", "transform_url"} <= names
    assert not usage.is_error and usage.structured_content is not None
    assert usage.structured_content["plan"] == "free"


async def test_the_documented_http_command_matches_api_info(running_server: Server) -> None:
    line = filled(documented("claude mcp add --transport http banatie "), running_server)
    argv = shlex.split(line)
    url, header = argv[argv.index("banatie") + 1], argv[argv.index("--header") + 1]
    async with httpx.AsyncClient() as plain:
        info = (await plain.get(f"{running_server.base_url}/api/info")).json()["data"]["mcp"]
    assert info["url"].replace("localhost", "127.0.0.1") == url
    name, _, value = header.partition(": ")
    http = httpx2.AsyncClient(headers={name: value})
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        assert "generate_image" in {tool.name for tool in (await client.list_tools()).tools}
