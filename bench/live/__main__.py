"""`python -m bench.live` (`make bench-live`): live URL hits against nginx, and single-flight.

1. Banatie (uvicorn, --workers N, SQLite and local blobs in a temp folder, access log off)
   generates a set of live images (one miss each) and then serves them as hits to C concurrent
   keep-alive clients (wrk when installed);
2. nginx serves the very same bytes as static files, same clients, same run (the limit);
3. 100 concurrent identical misses of a new live URL, split over the N worker processes (so
   the in-process flight and the database claim both take part): the number of generations
   they cause must be 1.

Prints requests/s and p50/p99 latency with the ratio to nginx (target: at least 25%), writes
bench/results/live.json. `--database-url postgresql://…` runs Banatie on PostgreSQL instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench.delivery import harness
from bench.delivery.servers import ROOT, Server, free_port, run_uvicorn
from bench.live.nginx import ensure_wrk, start_nginx

RESULTS = ROOT / "bench" / "results"
TARGET = 0.25
PROMPTS = [
    "a red fox in a snowy forest",
    "a lighthouse at dusk",
    "a bowl of ramen, top view",
    "mountain lake at sunrise",
    "a robot reading a book",
    "a cup of coffee with latte art",
    "a paper boat on a puddle",
    "a hot air balloon over fields",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each hit phase")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="Banatie worker processes")
    parser.add_argument("--misses", type=int, default=100, help="concurrent identical misses")
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--quick", action="store_true", help="2-second phases (a smoke run)")
    parser.add_argument(
        "--skip-cold", action="store_true", help="skip the hits with in-process caches off"
    )
    parser.add_argument("--json", type=Path, default=RESULTS / "live.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 2.0
    return args


def start_banatie(
    workdir: Path,
    *,
    workers: int,
    database_url: str | None,
    extra_env: dict[str, str] | None = None,
) -> tuple[Server, str]:
    data_dir = workdir / "banatie"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env.update(
        BANATIE_DATA_DIR=str(data_dir),
        BANATIE_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        BANATIE_FIRST_RUN_ORGANIZATION="bench",
        BANATIE_FIRST_RUN_PROJECT="main",
        # The benchmark is one client IP making a few dozen misses: lift the abuse limits.
        BANATIE_LIVE_IP_RATE_LIMIT="100000/hour",
        BANATIE_FREE_RATE_LIMIT="100000/minute",
        BANATIE_FREE_MONTHLY_GENERATIONS="100000",
        BANATIE_LIVE_POLL_SECONDS="0.05",
    )
    if database_url:
        env["BANATIE_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    key_file = workdir / "banatie-key.txt"
    setup = (
        "import asyncio, sys\n"
        "from banatie.db import migrate\n"
        "from banatie.settings import Settings\n"
        "from banatie.accounts.first_run import ensure_first_run\n"
        "s = Settings()\n"
        "migrate.upgrade(s.resolved_database_url)\n"
        "first = asyncio.run(ensure_first_run(s))\n"
        "if first: open(sys.argv[1], 'w').write(first.key)\n"
    )
    subprocess.run([sys.executable, "-c", setup, str(key_file)], env=env, check=True, cwd=ROOT)
    server = run_uvicorn(env, port, workers=workers, log=workdir / f"banatie-{port}.log")
    return server, key_file.read_text().strip()


def live_path(prompt: str, scope: str = "bench") -> str:
    return f"/cdn/bench/main/live/{scope}?prompt={quote(prompt)}&aspectRatio=16:9"


def generation_count(base_url: str, key: str) -> int:
    response = httpx.get(
        f"{base_url}/api/v1/generations?limit=1", headers={"X-API-Key": key}, timeout=30
    )
    response.raise_for_status()
    return int(response.json()["pagination"]["total"])


async def identical_misses(base_url: str, path: str, count: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        started = time.perf_counter()
        responses = await asyncio.gather(*(client.get(path) for _ in range(count)))
        elapsed = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for response in responses:
        label = f"{response.status_code} {response.headers.get('x-cache-status', '-')}"
        statuses[label] = statuses.get(label, 0) + 1
    return {
        "requests": count,
        "seconds": round(elapsed, 3),
        "statuses": statuses,
        "distinct_images": len({r.headers.get("x-image-id") for r in responses}),
        "distinct_bodies": len({r.content for r in responses}),
    }


def show(name: str, result: harness.LoadResult) -> None:
    print(
        f"  {name:<22} {result.rps:>9.0f} req/s   p50 {result.p50_ms:>7.2f} ms   "
        f"p99 {result.p99_ms:>7.2f} ms   errors {result.errors}   ({result.tool})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.tool != "httpx":
        ensure_wrk()
    results: dict[str, Any] = {
        "machine": {
            "cpus": harness.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "seconds": args.seconds,
            "connections": args.connections,
            "workers": args.workers,
            "database": "postgresql" if args.database_url else "sqlite",
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        workdir = Path(tmp)
        banatie, key = start_banatie(workdir, workers=args.workers, database_url=args.database_url)
        nginx: Server | None = None
        try:
            paths = [live_path(prompt) for prompt in PROMPTS]
            files: dict[str, bytes] = {}
            print(f"Generating {len(paths)} live images (one miss each) …")
            for i, path in enumerate(paths):
                response = httpx.get(banatie.base_url + path, timeout=120)
                response.raise_for_status()
                files[f"live-{i}.png"] = response.content
            sizes = [len(data) for data in files.values()]
            results["images"] = {"count": len(files), "mean_bytes": sum(sizes) // len(sizes)}
            for path in paths:  # every worker's cache warm: several rounds over each path
                for _ in range(args.workers * 2):
                    hit = httpx.get(banatie.base_url + path, timeout=30)
                    assert hit.headers["x-cache-status"] == "HIT", hit.headers
            nginx = start_nginx(workdir, files, workers=args.workers)
            nginx_paths = [f"/{name}" for name in files]

            print(f"Hits, {args.connections} connections, {args.seconds:.0f} s each:")
            live = harness.measure(
                banatie.pid,
                banatie.base_url,
                paths,
                seconds=args.seconds,
                connections=args.connections,
                tool=args.tool,
            )
            show("Banatie live hits", live)
            static = harness.measure(
                nginx.pid,
                nginx.base_url,
                nginx_paths,
                seconds=args.seconds,
                connections=args.connections,
                tool=args.tool,
            )
            show("nginx static file", static)
            ratio = live.rps / static.rps if static.rps else 0.0
            print(f"  ratio {ratio:.1%} of nginx (target {TARGET:.0%})")
            results["hits"] = {
                "banatie": asdict(live) | {"rps": live.rps},
                "nginx": asdict(static) | {"rps": static.rps},
                "ratio": ratio,
                "target": TARGET,
                "met": ratio >= TARGET,
            }
            if not args.skip_cold:
                # The same hits with the in-process caches off: every request is the full
                # route, one indexed SELECT and one blob read (what a cold replica does).
                cold_server, _ = start_banatie(
                    workdir,
                    workers=args.workers,
                    database_url=args.database_url,
                    extra_env={"BANATIE_LIVE_LRU_SIZE": "0", "BANATIE_LIVE_MEMORY_CACHE_MB": "0"},
                )
                try:
                    cold = harness.measure(
                        cold_server.pid,
                        cold_server.base_url,
                        paths,
                        seconds=args.seconds,
                        connections=args.connections,
                        tool=args.tool,
                    )
                finally:
                    cold_server.stop()
                show("Banatie, caches off", cold)
                print(f"  ratio {cold.rps / static.rps if static.rps else 0:.1%} of nginx")
                results["hits"]["banatie_caches_off"] = asdict(cold) | {
                    "rps": cold.rps,
                    "ratio": cold.rps / static.rps if static.rps else 0.0,
                }

            before = generation_count(banatie.base_url, key)
            miss_path = live_path(f"single flight {time.time_ns()}", scope="flight")
            print(f"{args.misses} concurrent identical misses …")
            flight = asyncio.run(identical_misses(banatie.base_url, miss_path, args.misses))
            flight["generations"] = generation_count(banatie.base_url, key) - before
            flight["met"] = flight["generations"] == 1 and flight["distinct_images"] == 1
            print(
                f"  {flight['generations']} generation(s), {flight['distinct_images']} image, "
                f"{flight['seconds']:.2f} s, statuses {flight['statuses']}"
            )
            results["single_flight"] = flight
        finally:
            if nginx is not None:
                nginx.stop()
            banatie.stop()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"Results in {args.json}")
    ok = results["hits"]["met"] and results["single_flight"]["met"]
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
