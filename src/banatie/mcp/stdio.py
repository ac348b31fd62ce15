"""`banatie mcp`: the MCP server over stdio, for clients that launch a command (Claude Desktop,
Cursor, …). It serves nothing itself: every request is passed to a Banatie server's `/mcp`
over streamable HTTP with the SDK's client, so the tools, their rules and their charges are
the server's. Each process sends its own session tag, so one launched conversation keeps
its own current flow."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    GetPromptRequestParams,
    GetPromptResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
)

from banatie import __version__
from banatie.mcp.calls import SESSION_HEADER, error_result
from banatie.mcp.mount import MCP_PATH
from banatie.mcp.server import INSTRUCTIONS

#: A generation can take a minute on a busy model; the SDK's default read timeout is shorter.
READ_TIMEOUT_SECONDS = 300.0


class UpstreamRefused(Exception):
    """The server refused the key (or is not a Banatie server): said once, at start."""


def endpoint(url: str) -> str:
    """`https://host` or `https://host/mcp` -> the MCP endpoint."""
    url = url.rstrip("/")
    return url if url.endswith(MCP_PATH) else url + MCP_PATH


async def check(url: str, api_key: str) -> None:
    """A plain request first, so a wrong key or URL is one clear line, not a stack trace."""
    async with httpx2.AsyncClient(timeout=30) as http:
        try:
            answer = await http.post(
                endpoint(url),
                headers={"X-API-Key": api_key, "Accept": "application/json, text/event-stream"},
                json={"jsonrpc": "2.0", "id": 0, "method": "ping"},
            )
        except httpx2.HTTPError as exc:
            raise UpstreamRefused(f"cannot reach {endpoint(url)}: {exc}") from exc
    if answer.status_code in (401, 403):
        try:
            error = answer.json()["error"]
            message = f"{error['code']}: {error['message']}"
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {answer.status_code}"
        raise UpstreamRefused(f"{endpoint(url)} refused the API key ({message})")
    if answer.status_code == 404:
        raise UpstreamRefused(f"{endpoint(url)} is not a Banatie MCP endpoint (HTTP 404)")


Page = TypeVar("Page")


def _listing(
    method: Callable[..., Awaitable[Page]],
) -> Callable[[ServerRequestContext[Any], PaginatedRequestParams | None], Awaitable[Page]]:
    """A `*/list` handler: the same list from upstream, at the client's cursor."""

    async def handler(_: ServerRequestContext[Any], params: PaginatedRequestParams | None) -> Page:
        return await method(cursor=params.cursor if params else None)

    return handler


def proxy(upstream: Client) -> Server[Any]:
    async def call_tool(
        _: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        try:
            return await upstream.call_tool(
                params.name, params.arguments, read_timeout_seconds=READ_TIMEOUT_SECONDS
            )
        except (MCPError, httpx2.HTTPError) as exc:
            return error_result("UPSTREAM_ERROR", f"the Banatie server did not answer: {exc}", 502)

    async def read_resource(
        _: ServerRequestContext[Any], params: ReadResourceRequestParams
    ) -> ReadResourceResult:
        return await upstream.read_resource(str(params.uri))

    async def get_prompt(
        _: ServerRequestContext[Any], params: GetPromptRequestParams
    ) -> GetPromptResult:
        return await upstream.get_prompt(params.name, params.arguments)

    return Server(
        "banatie",
        version=__version__,
        title="Banatie",
        instructions=upstream.instructions or INSTRUCTIONS,
        on_list_tools=_listing(upstream.list_tools),
        on_call_tool=call_tool,
        on_list_resources=_listing(upstream.list_resources),
        on_list_resource_templates=_listing(upstream.list_resource_templates),
        on_read_resource=read_resource,
        on_list_prompts=_listing(upstream.list_prompts),
        on_get_prompt=get_prompt,
    )


async def serve(url: str, api_key: str) -> None:
    """Serve stdin/stdout until the client closes it. Raises `UpstreamRefused`."""
    await check(url, api_key)
    headers = {"X-API-Key": api_key, SESSION_HEADER: uuid.uuid4().hex}
    http = httpx2.AsyncClient(
        headers=headers, timeout=httpx2.Timeout(30, read=READ_TIMEOUT_SECONDS)
    )
    async with http, Client(streamable_http_client(endpoint(url), http_client=http)) as upstream:
        server = proxy(upstream)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
