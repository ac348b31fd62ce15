"""Delivery benchmark: Banatie vs thumbor vs raw pyvips, misses and cached hits.

Run with `make bench` (or `.venv/bin/python -m bench.delivery`); see docs/performance.md.
"""
