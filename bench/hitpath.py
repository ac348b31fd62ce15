"""`python -m bench.hitpath`: the app's own CPU per hit, in process, without a server.

What a cached variant hit and a live URL hit cost inside the ASGI app (every middleware, the
fast path, metrics and the access line), apart from the HTTP server in front of it: the app is
called directly with the scope a server would build, and `send` drops the messages. Set up as
`banatie serve` runs a worker: metrics in a multiprocess directory (`--single-process` to
compare), the access line written at INFO through the served logging configuration (to
/dev/null), SQLite and local blobs in a temp folder, signed variant URLs; the image-row and
live-bytes memories kept an hour, so that every request is the steady hit.

Prints µs of CPU per request for each case (the median and the least of `--rounds` rounds of
`--requests` requests; on a shared machine the least is the steadiest) and, with `--profile`,
cProfile's top functions of one more round. `--instructions` counts instead the CPU
instructions per request (the whole process runs under valgrind's callgrind, counting only
while the requests run): the same on a busy machine as on an idle one, so before/after
figures of one change compare even when CPU time does not.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

SIGNING_KEY = "bench-signing-key"
ORG, PROJECT = "bench", "main"
LIVE_PATH = f"/cdn/{ORG}/{PROJECT}/live/bench"
LIVE_QUERY = "prompt=a%20red%20fox%20in%20the%20snow&aspectRatio=16:9"
#: What wrk sends, and an Accept of a browser for the variant (it answers `Vary: Accept`).
BASE_HEADERS: list[tuple[bytes, bytes]] = [(b"host", b"127.0.0.1:8000")]
ACCEPT = (b"accept", b"image/avif,image/webp,*/*;q=0.8")

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
#: Set in the process valgrind runs (--instructions): the callgrind output file's prefix.
CALLGRIND_ENV = "BENCH_HITPATH_CALLGRIND"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.hitpath", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one more round")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count CPU instructions per request under valgrind (callgrind) instead of timing",
    )
    parser.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    parser.add_argument(
        "--single-process", action="store_true", help="metrics in memory, not in a directory"
    )
    parser.add_argument(
        "--only", choices=["variant", "live", "conditional"], action="append", default=None
    )
    return parser.parse_args(argv)


def scope_of(path: str, query: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The scope uvicorn builds for a `GET` (a fresh copy is made per request)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
        "state": {},
    }


class Sink:
    """`send` of the benchmark: keeps the last status and the body bytes sent."""

    def __init__(self) -> None:
        self.status = 0
        self.body = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = message["headers"]
        else:
            self.body += len(message.get("body", b""))


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def run_round(app: Asgi, template: dict[str, Any], count: int, expect: int) -> float:
    """CPU seconds per request over `count` sequential requests."""
    sink = Sink()
    started = time.process_time()
    for _ in range(count):
        await app(dict(template), receive, sink)
    spent = time.process_time() - started
    if sink.status != expect:
        raise SystemExit(f"{template['path']}: status {sink.status}, expected {expect}")
    return spent / count


def configure(workdir: Path) -> Any:
    """The settings of the benchmark's app, with logging set up as `banatie serve` sets it
    (its lines written to /dev/null)."""
    import logging.config

    from banatie.observability.logs import logging_config
    from banatie.settings import Settings

    settings = Settings(
        _env_file=None,
        data_dir=workdir / "banatie",
        public_base_url="http://127.0.0.1:8000",
        delivery_signing_key=SIGNING_KEY,
        first_run_organization=ORG,
        first_run_project=PROJECT,
        live_ip_rate_limit="1000000/hour",
        free_rate_limit="1000000/minute",
        cpu_workers=1,
        # The steady hit path only: at thousands of hits a second the once-a-second refresh
        # of a row or a live image's bytes is noise, at the pace of callgrind it is not.
        delivery_metadata_ttl_seconds=3600,
        live_memory_cache_seconds=3600,
    )
    config = logging_config(settings.log_format, settings.log_level, settings.secrets)
    config["handlers"]["default"]["stream"] = open(os.devnull, "w")  # noqa: SIM115
    logging.config.dictConfig(config)
    return settings


async def prepare(settings: Any, workdir: Path) -> tuple[Any, dict[str, dict[str, Any]], Any]:
    import httpx

    from banatie.accounts.first_run import ensure_first_run
    from banatie.app import create_app
    from banatie.db import migrate
    from banatie.delivery.signing import sign_query
    from bench.delivery.source import make_source

    migrate.upgrade(settings.resolved_database_url)
    first = await ensure_first_run(settings)
    assert first is not None
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    source = make_source(workdir / "bench.png")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        uploaded = await http.post(
            "/api/v1/images/upload",
            headers={"X-API-Key": first.key},
            files={"file": ("bench.png", source, "image/png")},
        )
        uploaded.raise_for_status()
        image_id = uploaded.json()["data"]["image"]["id"]
        path = f"/cdn/{ORG}/{PROJECT}/img/{image_id}"
        query = sign_query(SIGNING_KEY, path, "w=400&h=300&mode=crop&format=webp&quality=80")
        accept = {"accept": ACCEPT[1].decode()}
        live = await http.get(f"{LIVE_PATH}?{LIVE_QUERY}", timeout=600)
        live.raise_for_status()
        for _ in range(3):  # render, then from the store (remembered), then warm
            variant = await http.get(f"{path}?{query}", headers=accept)
            variant.raise_for_status()
            (await http.get(f"{LIVE_PATH}?{LIVE_QUERY}")).raise_for_status()
    print(
        f"variant {len(variant.content) / 1000:.1f} KB ({variant.headers['x-variant-cache']}),"
        f" live {len(live.content) / 1000:.1f} KB ({live.headers['x-cache-status']})",
        flush=True,
    )
    cases = {
        "variant": scope_of(path, query, [*BASE_HEADERS, ACCEPT]),
        "live": scope_of(LIVE_PATH, LIVE_QUERY, list(BASE_HEADERS)),
        "conditional": scope_of(
            LIVE_PATH,
            LIVE_QUERY,
            [*BASE_HEADERS, (b"if-none-match", live.headers["etag"].encode())],
        ),
    }
    return app, cases, lifespan


async def main_async(args: argparse.Namespace, settings: Any, workdir: Path) -> None:
    app, cases, lifespan = await prepare(settings, workdir)
    expected = {"variant": 200, "live": 200, "conditional": 304}
    names = args.only or ["variant", "live", "conditional"]
    try:
        for name in names:
            await run_round(app, cases[name], 500, expected[name])  # warm every cache
        if os.environ.get(CALLGRIND_ENV):
            for name in names:  # one callgrind dump per case, counting only its requests
                _callgrind("-i", "on")
                await run_round(app, cases[name], args.requests, expected[name])
                _callgrind("-i", "off")
                _callgrind("-d", name)
            return
        results: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.rounds):  # interleaved: load on the machine hits every case alike
            for name in names:
                seconds = await run_round(app, cases[name], args.requests, expected[name])
                results[name].append(seconds * 1e6)
        for name in names:
            spread = ", ".join(f"{v:.1f}" for v in sorted(results[name]))
            median = statistics.median(results[name])
            least = min(results[name])
            print(
                f"{name:12s} {median:7.1f} µs CPU / request, least {least:5.1f}"
                f"  (rounds: {spread})",
                flush=True,
            )
        if args.profile:
            for name in names:
                profiler = cProfile.Profile()
                profiler.enable()
                await run_round(app, cases[name], args.requests, expected[name])
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
                stats.print_stats(args.top)
                print(f"--- profile: {name} ({args.requests} requests)\n{out.getvalue()}")
    finally:
        await lifespan.__aexit__(None, None, None)


def _callgrind(*command: str) -> None:
    subprocess.run(
        ["callgrind_control", *command, str(os.getpid())], check=True, capture_output=True
    )


def count_instructions(args: argparse.Namespace, argv: list[str]) -> int:
    """This benchmark again under callgrind, counting only while the requests run."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    names = args.only or ["variant", "live", "conditional"]
    with tempfile.TemporaryDirectory(prefix="bench-hitpath-cg-") as tmp:
        out = Path(tmp) / "callgrind.out"
        inner = [a for a in argv if a != "--instructions"]
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.hitpath",
            *inner,
        ]
        env = {**os.environ, CALLGRIND_ENV: str(out)}
        subprocess.run(command, env=env, check=True, stderr=subprocess.DEVNULL)
        for index, name in enumerate(names, start=1):  # dumps are numbered in their order
            dump = Path(f"{out}.{index}").read_text()
            total = int(dump.split("\ntotals:", 1)[1].split()[0])
            per = total / args.requests
            print(f"{name:12s} {per / 1000:7.1f} k instructions / request", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.instructions:
        return count_instructions(args, sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="bench-hitpath-") as tmp:
        workdir = Path(tmp)
        if not args.single_process:  # as `banatie serve --workers N` runs each worker
            (workdir / "metrics").mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(workdir / "metrics")
        load = os.getloadavg()
        print(
            f"bench.hitpath: load average {load[0]:.1f} at start, "
            f"{'single process' if args.single_process else 'multiprocess'} metrics",
            flush=True,
        )
        asyncio.run(main_async(args, configure(workdir), workdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
