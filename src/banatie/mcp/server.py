"""The MCP server: one definition (tools, resources, prompts over the services), served as
streamable HTTP at `/mcp` on the app (this module, which `mount.py` loads with the first
request) and over stdio by `banatie mcp` (`stdio.py`).

Streamable HTTP is served statelessly (no `Mcp-Session-Id`), so any replica answers any call;
what a conversation remembers lives in the database (`context.py`)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from banatie import __version__
from banatie.errors import ApiError, error_body
from banatie.mcp import image_tools, project_tools, resources, tools
from banatie.mcp.calls import caller
from banatie.mcp.resources import BanatieMCP
from banatie.runtime import Runtime

INSTRUCTIONS = """\
Banatie generates production-ready images and hands back permanent URLs to put in pages.
- generate_image returns the image's URL, srcset, width/height, alt text and a ready <img>
  or <picture> tag: paste those into HTML as they are.
- Calls continue the conversation's flow: write '@last' in a prompt for the previous image,
  '@logo' for an image aliased @logo (upload_image with alias first). newFlow starts afresh.
- live_image_url writes an image URL without generating (made on first view): best for pages
  with many images. transform_url resizes/crops a stored image by URL.
- Errors carry the API's code (QUOTA_EXCEEDED, RATE_LIMIT_EXCEEDED, IMAGE_NOT_FOUND, …)."""


def build_server(rt: Runtime) -> MCPServer:
    server = BanatieMCP(
        rt,
        name="banatie",
        title="Banatie",
        instructions=INSTRUCTIONS,
        version=__version__,
        website_url=rt.settings.public_base_url,
        # The SDK calls logging.basicConfig with this level when the root logger has no
        # handler: WARNING keeps the server's logging as it was (INFO would print every
        # library's INFO lines to stderr).
        log_level="WARNING",
    )
    tools.register(server, rt)
    image_tools.register(server, rt)
    project_tools.register(server, rt)
    resources.register(server, rt)
    return server


class McpEndpoint:
    """`/mcp`: the project key is checked before the MCP transport sees the request (401 or
    403 in the API's envelope); each tool checks it again inside its own call."""

    def __init__(self, rt: Runtime, manager: StreamableHTTPSessionManager) -> None:
        self.rt = rt
        self.manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with caller(self.rt, Headers(scope=scope)):
                pass
        except ApiError as exc:
            headers = {"Cache-Control": "no-store", **exc.headers}
            if exc.status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="banatie"'
            body = error_body(exc.message, exc.code, exc.details)
            await JSONResponse(body, status_code=exc.status, headers=headers)(scope, receive, send)
            return
        await self.manager.handle_request(scope, receive, send)


def serve(rt: Runtime) -> tuple[McpEndpoint, AbstractAsyncContextManager[None]]:
    """The `/mcp` endpoint and the context manager that runs its transport (`mount.py` routes
    to it and enters that context on the first request)."""
    server = build_server(rt)
    server.streamable_http_app(
        stateless_http=True,
        max_request_body_size=rt.settings.max_mcp_request_bytes,
        # The key header is the guard: a page a DNS rebinding attack loads cannot send it.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    return McpEndpoint(rt, manager), manager.run()
