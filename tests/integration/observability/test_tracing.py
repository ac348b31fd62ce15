"""OpenTelemetry traces (`banatie[otel]`), on when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans
arrive over OTLP/HTTP (protobuf) at a local receiver, one server span per request continuing
the caller's `traceparent`, with the provider calls and blob writes as its children."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from banatie.app import create_app
from banatie.settings import Settings
from tests.conftest import Keys

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP endpoint: keeps every export request it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.exports: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) of every span received."""
        found = []
        for export in self.exports:
            for resource_spans in export.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope_spans.spans]
        return found


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.headers["Content-Type"] == "application/x-protobuf"
        self.server.paths.append(self.path)
        self.server.exports.append(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def attributes(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attribute in span.attributes:
        value = attribute.value
        out[attribute.key] = value.int_value if value.HasField("int_value") else value.string_value
    return out


async def test_spans_reach_an_otlp_http_receiver(
    settings: Settings,
    keys: Keys,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "banatie-test")
    app = create_app(settings)  # the keys were made by the conftest app, on the same database
    assert app.state.runtime.tracing.enabled
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            created = await http.post(
                "/api/v1/generations",
                headers={**keys.headers(), "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"},
                json={"prompt": "a traced fox"},
            )
            assert created.status_code == 201, created.text
    finally:
        await app.state.runtime.close()  # flushes the buffered spans

    assert set(receiver.paths) == {"/v1/traces"}
    spans = receiver.spans()
    assert {resource["service.name"] for resource, _ in spans} == {"banatie-test"}
    by_name = {span.name: span for _, span in spans}
    server = by_name["POST /api/v1/generations"]
    assert server.trace_id.hex() == TRACE_ID  # the caller's trace goes on
    assert server.parent_span_id.hex() == PARENT_ID
    assert server.kind == server.SPAN_KIND_SERVER
    assert attributes(server)["http.route"] == "/api/v1/generations"
    assert attributes(server)["http.response.status_code"] == 201
    assert attributes(server)["banatie.request_id"] == created.headers["X-Request-ID"]
    for name in ("banatie.enhance", "banatie.synthesize", "banatie.analyze", "storage.put"):
        child = by_name[name]
        assert child.trace_id == server.trace_id, name
        assert child.parent_span_id == server.span_id, name
    assert attributes(by_name["banatie.synthesize"])["banatie.adapter"] == "local"


async def test_tracing_is_off_without_an_endpoint(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    app = create_app(settings)
    try:
        assert not app.state.runtime.tracing.enabled
    finally:
        await app.state.runtime.close()
