"""A local HTTP server that receives webhooks the way a careful receiver does: it checks every
request's Standard Webhooks signature with the `standardwebhooks` library (401 when it does
not verify) and can fail the first attempts or hold answers, to test retries and dispatchers
that stop mid-attempt.

    with running_receiver() as receiver:
        receiver.secret = "whsec_…"          # what the endpoint was given
        receiver.fail_next(2)                # 500, 500, then 204
        ...
        assert receiver.accepted()[0].payload["type"] == "generation.succeeded"
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    secret: str | None = None
    calls: list[Received] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    # While cleared, answers wait (a test stops a dispatcher mid-attempt).
    released: threading.Event = field(default_factory=threading.Event)
    # Requests read so far, answered or still held.
    arrivals: int = 0
    _failures: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.released.set()

    def url(self, path: str = "/hooks") -> str:
        return self.base_url + path

    def fail_next(self, count: int, status: int = 500) -> None:
        with self.lock:
            self._failures.extend([status] * count)

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.calls)

    def accepted(self) -> list[Received]:
        return [call for call in self.received() if call.verified and call.answered < 300]

    def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 15.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.received()
            if predicate(calls):
                return calls
            time.sleep(0.02)
        raise AssertionError(f"the receiver did not see what was expected: {self.received()}")

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        verified = False
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except WebhookVerificationError:
                verified = False
        with self.lock:
            status = 401 if not verified else (self._failures.pop(0) if self._failures else 204)
            self.calls.append(Received(path, headers, body, verified, status))
        return status


def _handler(state: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with state.lock:
                state.arrivals += 1
            state.released.wait(30)
            status = state._answer(self.path, headers, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
