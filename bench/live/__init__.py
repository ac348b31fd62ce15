"""Live URL benchmark: cache hits against nginx serving the same bytes, and single-flight.

Run with `make bench-live` (or `.venv/bin/python -m bench.live`); see docs/performance.md.
"""
