"""OpenTelemetry traces, optional: `pip install 'banatie[otel]'` and set
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). Spans go out over
OTLP/HTTP (protobuf) to a collector, Jaeger, Tempo or any vendor that speaks it; the SDK's own
variables apply (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`, …).

One server span per request (continuing the caller's W3C `traceparent`), with a child span
around each provider call (enhance, synthesize, analyze) and each blob store operation. Without
the endpoint, or without the packages, :class:`Tracing` does nothing and costs nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from banatie import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES: Final = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class Tracing:
    """Spans when an exporter is configured; a no-op otherwise."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("banatie", __version__) if provider else None

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    @contextlib.contextmanager
    def span(self, name: str, attributes: Mapping[str, Any] | None = None) -> Iterator[Span | None]:
        """A child of the current span (the request's), ended when the block ends; an exception
        leaving the block is recorded on it and marks it failed."""
        if self._tracer is None:
            yield None
            return
        with self._tracer.start_as_current_span(name, attributes=attributes) as span:
            yield span

    @contextlib.contextmanager
    def server_span(
        self, name: str, headers: Mapping[str, str], attributes: Mapping[str, Any]
    ) -> Iterator[Span | None]:
        """The span of a request, continuing the trace its `traceparent` header names."""
        if self._tracer is None:
            yield None
            return
        from opentelemetry import propagate
        from opentelemetry.trace import SpanKind

        parent = propagate.extract(headers)
        with self._tracer.start_as_current_span(
            name, context=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            yield span

    def shutdown(self) -> None:
        """Send the spans still buffered, then stop."""
        if self.provider is not None:
            self.provider.shutdown()


def from_environment(environ: Mapping[str, str]) -> Tracing:
    """Tracing as the OTEL_* variables ask; off unless an OTLP endpoint is set."""
    if not any(environ.get(name) for name in ENDPOINT_VARIABLES):
        return Tracing()
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return Tracing()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'banatie[otel]'; tracing stays off"
        )
        return Tracing()
    attributes = {"service.version": __version__}
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; what it is given
    # wins over them, so the default name is given only when they name none.
    named = "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not environ.get("OTEL_SERVICE_NAME") and not named:
        attributes["service.name"] = "banatie"
    resource = Resource.create(attributes)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return Tracing(provider)
