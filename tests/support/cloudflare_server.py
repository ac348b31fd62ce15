"""A local HTTP server that speaks Cloudflare's cache purge API, for testing the real adapter.

    with running_cloudflare_server(token="t0ken", zone="zone123") as cf:
        settings = Settings(cloudflare_api_base_url=cf.base_url, cloudflare_zone_id="zone123",
                            cloudflare_api_token="t0ken", ...)
        ...
        assert cf.purged_files() == [...]

It implements ``POST /client/v4/zones/{zone_id}/purge_cache`` as Cloudflare documents it:

* ``Authorization: Bearer <token>``; a wrong token is ``403`` with code 10000
  (``Authentication error``), an unknown zone ``404`` with code 7003;
* the body is ``{"files": [url | {"url", "headers"}]}``, ``{"tags": [...]}``,
  ``{"hosts": [...]}``, ``{"prefixes": [...]}`` or ``{"purge_everything": true}``; more than
  ``max_files`` (30, as on Free/Pro/Business zones) files in one call is ``400`` with code 1015;
  a malformed body is ``400`` with code 1012 (``Request must contain one of "purge_everything",
  "files", "tags", "hosts" or "prefixes"``);
* success is ``200`` with ``{"success": true, "errors": [], "messages": [], "result": {"id"}}``.

``fail_next(n, status=…)`` makes the next ``n`` calls fail (e.g. 429 with ``Retry-After`` or
500), to test retries. Every accepted call is kept in ``calls``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PURGE_KEYS = ("files", "tags", "hosts", "prefixes", "purge_everything")


@dataclass
class PurgeCall:
    zone: str
    body: dict[str, Any]


@dataclass
class CloudflareState:
    token: str
    zone: str
    max_files: int = 30
    calls: list[PurgeCall] = field(default_factory=list)
    attempts: int = 0
    _failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def fail_next(
        self, count: int = 1, *, status: int = 500, retry_after: int | None = None
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self.lock:
            self._failures.extend([(status, headers)] * count)

    def purged_files(self) -> list[str]:
        """Every URL purged so far (``{"url": …}`` objects give their URL), in order."""
        out: list[str] = []
        with self.lock:
            for call in self.calls:
                for item in call.body.get("files", []):
                    out.append(item["url"] if isinstance(item, dict) else item)
        return out

    def purged_tags(self) -> list[str]:
        with self.lock:
            return [tag for call in self.calls for tag in call.body.get("tags", [])]


def _error(code: int, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }


def _handler(state: CloudflareState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return None

        def _send(
            self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            parts = self.path.strip("/").split("/")
            # client/v4/zones/{zone}/purge_cache
            if (
                len(parts) != 5
                or parts[:3] != ["client", "v4", "zones"]
                or parts[4] != ("purge_cache")
            ):
                self._send(404, _error(7000, "No route for that URI"))
                return
            with state.lock:
                state.attempts += 1
                failure = state._failures.pop(0) if state._failures else None
            if failure is not None:
                status, headers = failure
                message = "Rate limited" if status == 429 else "Internal error"
                self._send(status, _error(971 if status == 429 else 10001, message), headers)
                return
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                self._send(403, _error(10000, "Authentication error"))
                return
            if parts[3] != state.zone:
                self._send(
                    404,
                    _error(
                        7003,
                        "Could not route to /zones/…, perhaps your object identifier is invalid?",
                    ),
                )
                return
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = None
            if not isinstance(body, dict) or sum(k in body for k in PURGE_KEYS) != 1:
                self._send(
                    400,
                    _error(
                        1012,
                        'Request must contain one of "purge_everything", "files", "tags", '
                        '"hosts" or "prefixes"',
                    ),
                )
                return
            files = body.get("files")
            if files is not None:
                if not isinstance(files, list) or not all(
                    isinstance(f, str) or (isinstance(f, dict) and "url" in f) for f in files
                ):
                    self._send(400, _error(1012, "files must be a list of URLs"))
                    return
                if len(files) > state.max_files:
                    self._send(
                        400,
                        _error(1015, f"Only {state.max_files} files can be purged per request"),
                    )
                    return
            with state.lock:
                state.calls.append(PurgeCall(zone=parts[3], body=body))
            self._send(
                200,
                {
                    "success": True,
                    "errors": [],
                    "messages": [],
                    "result": {"id": uuid.uuid4().hex},
                },
            )

    return Handler


@contextmanager
def running_cloudflare_server(
    *, token: str = "test-token", zone: str = "test-zone"
) -> Iterator[CloudflareState]:
    state = CloudflareState(token=token, zone=zone)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    assert isinstance(host, str)
    state.base_url = f"http://{host}:{port}/client/v4"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
