"""What an operator sees of a running server: request ids, structured and scrubbed logs, one
access line per request, Prometheus metrics and (optionally) OpenTelemetry traces.
docs/operations.md describes them."""
