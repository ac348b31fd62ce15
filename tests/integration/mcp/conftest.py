"""One real `banatie serve` for the MCP tests (SQLite, local synthesizer), driven with the mcp
SDK's own client: project `main` (generous limits), a project whose plan allows 3 generation
requests a minute (for the rate-limit parity test), one whose allowance is used up, and a
small local HTTP server for `upload_image` by URL (the server may fetch private addresses)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import new_database
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.sdk.conftest import _cli, _project_key
from tests.support.images import solid_png


@dataclass(frozen=True)
class McpServer:
    base_url: str
    key: str  # project `main` of organization `default`
    throttled_key: str  # a project whose plan allows 3 generation requests a minute
    exhausted_key: str  # a project whose monthly allowance is 0
    master_key: str  # organization `default`'s master key (administers; no project)
    files_url: str  # a local HTTP server: /logo.png, /redirect (to the logo)
    data_dir: Path
    server: Server

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"


LOGO = solid_png(96, 64, (20, 90, 200))


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/logo.png":
            body, kind = LOGO, "image/png"
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/logo.png")
            self.end_headers()
            return
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="package")
def files_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def mcp_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, files_server: str
) -> Iterator[McpServer]:
    """The server on its own SQLite file, or on a fresh PostgreSQL database (where concurrent
    first calls of a conversation and the rate-limit counter meet real row locking)."""
    with ExitStack() as stack:
        env = {
            "BANATIE_FREE_RATE_LIMIT": "1000/minute",
            "BANATIE_FREE_MONTHLY_GENERATIONS": "100000",
            "BANATIE_FETCH_PRIVATE_URLS": "true",
        }
        if request.param == "postgres":
            env["BANATIE_DATABASE_URL"] = stack.enter_context(new_database())
        yield from _serve(tmp_path_factory.mktemp("mcp-server") / "var", env, files_server)


def _serve(data_dir: Path, env: dict[str, str], files_server: str) -> Iterator[McpServer]:
    server = start_server(data_dir, free_port(), env)
    try:
        _cli(data_dir, "plans", "set", "three", "--rate-limit", "3/minute", extra_env=env)
        _cli(data_dir, "plans", "set", "empty", "--monthly-generations", "0", extra_env=env)
        boot = httpx.post(
            f"{server.base_url}/api/bootstrap/initial-key", headers={"X-API-Key": server.key}
        )
        assert boot.status_code == 201, boot.text
        master = boot.json()["data"]["key"]
        yield McpServer(
            base_url=server.base_url,
            key=server.key,
            throttled_key=_project_key(server.base_url, master, "throttled", "three"),
            exhausted_key=_project_key(server.base_url, master, "exhausted", "empty"),
            master_key=master,
            files_url=files_server,
            data_dir=data_dir,
            server=server,
        )
    finally:
        stop_server(server)


@asynccontextmanager
async def connect(
    url: str, key: str, *, session: str | None = None, mode: str = "auto"
) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP, the key in `X-API-Key`; a fresh session tag
    unless one is given, so tests sharing a key never continue each other's flows."""
    headers = {"X-API-Key": key, "X-Banatie-Session": session or uuid.uuid4().hex}
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120))
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        yield client
