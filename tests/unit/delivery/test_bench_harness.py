"""A cheap smoke test of the delivery benchmark's harness (the benchmark itself: `make bench`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from bench.delivery import harness, raw
from bench.delivery.__main__ import parse_args
from bench.delivery.source import HEIGHT, WIDTH, make_source
from bench.delivery.urls import banatie_path, hit_combos, miss_combos, thumbor_path


@pytest.fixture
def tiny_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_requests_are_distinct_and_signed() -> None:
    misses = miss_combos()
    assert len(set(misses)) == len(misses) >= 10_000
    assert misses[0] != misses[1] and misses[0][0] != misses[1][0]
    assert len(hit_combos()) == 50
    path = banatie_path("abc", 400, 80, "key")
    query = dict(parse_qsl(urlsplit(path).query))
    assert query["w"] == "400" and query["quality"] == "80" and "sig" in query
    from banatie.delivery.signing import verify

    assert verify("key", "/cdn/bench/main/img/abc", parse_qsl(urlsplit(path).query))[0]
    assert thumbor_path(400, 80) == "/unsafe/400x300/filters:format(webp):quality(80)/bench.png"


def test_source_and_raw_pyvips(tmp_path: Path) -> None:
    data = make_source(tmp_path / "bench.png")
    import pyvips

    image = pyvips.Image.new_from_buffer(data, "")
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    out = raw.transform(data, 400, 80)
    assert pyvips.Image.new_from_buffer(out, "").width == 400
    # A request counts only if it ends inside the window; one 1344x768 miss takes ~40 ms alone
    # but several hundred on a loaded 2-core machine, so the window leaves room for one.
    result = raw.run(data, seconds=3.0, threads=1, warmup=0.0)
    assert result["requests"] >= 1 and result["peak_rss_mb"] > 0


def test_load_generator_and_process_metrics(tiny_server: str) -> None:
    result = harness.run_load(tiny_server, ["/a", "/b"], seconds=0.5, connections=2, tool="httpx")
    assert result.requests > 0 and result.errors == 0 and result.p99_ms >= result.p50_ms
    me = os.getpid()
    assert me in harness.process_tree(me)
    assert harness.rss_mb(me) > 0 and harness.cpu_seconds([me]) > 0


@pytest.mark.skipif(harness.wrk_path() is None, reason="wrk is not installed")
def test_wrk_script(tiny_server: str) -> None:
    result = harness.run_wrk(tiny_server, ["/a", "/b"], seconds=1, connections=2, threads=1)
    assert result.requests > 0 and result.tool == "wrk"


def test_quick_mode() -> None:
    args = parse_args(["--quick", "--skip-thumbor"])
    assert args.miss_seconds == args.hit_seconds == 2.0 and args.skip_thumbor
    assert args.rounds == 1
