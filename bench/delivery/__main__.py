"""`python -m bench.delivery` (`make bench`): Banatie vs thumbor vs raw pyvips on this machine.

Every contender gets the same 1344x768 PNG and the same requests:

* raw pyvips in-process (the limit): decode + crop-thumbnail + WebP, one thread per core;
* Banatie (uvicorn --workers 2, SQLite + local blobs, signed URLs);
* thumbor (PyPI, own venv, file loader + file result storage, 2 processes).

(a) misses: `w=400&h=300&mode=crop&format=webp` with `w` and `quality` varied so that every
request is a new variant; (b) hits: 50 variants rendered once, then requested over and over.
The machine is shared and noisy, so the contenders run *interleaved* in rounds (raw, Banatie,
thumbor, raw, Banatie, ...; each waits for the previous one's leftovers to finish) and the
median round counts. Prints requests/s, p50/p99, server CPU per request, peak RSS of the whole
server (every process), ratios, and whether issue 4's targets are met; writes
bench/results/delivery.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.delivery import harness, servers
from bench.delivery.source import make_source
from bench.delivery.urls import banatie_path, hit_combos, miss_combos, thumbor_path

RESULTS = servers.ROOT / "bench" / "results"

TARGETS = {
    "misses vs raw pyvips": 0.8,
    "misses vs thumbor": 1.5,
    "hits vs thumbor": 2.0,
}
RSS_TARGET_MB = 400.0
ROUND_SLICE = 2500  # miss requests reserved per round (a round never repeats a variant)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--miss-seconds", type=float, default=10.0, help="per round")
    parser.add_argument("--hit-seconds", type=float, default=6.0, help="per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="Banatie worker processes")
    parser.add_argument(
        "--cpu-workers",
        type=int,
        default=1,
        help="BANATIE_CPU_WORKERS (libvips threads per worker; default: workers x 1 = cores)",
    )
    parser.add_argument("--thumbor-processes", type=int, default=2)
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--skip-thumbor", action="store_true")
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--quick", action="store_true", help="one round of 2-second phases")
    parser.add_argument("--json", type=Path, default=RESULTS / "delivery.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.miss_seconds, args.hit_seconds = 1, 2.0, 2.0
    return args


def run_raw(source: Path, seconds: float, decoded: bool = False) -> harness.LoadResult:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.delivery.raw",
            str(source),
            "--seconds",
            str(seconds),
            "--threads",
            str(harness.cpu_count()),
            *(["--decoded"] if decoded else []),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=servers.ROOT,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return harness.LoadResult(
        requests=int(data["requests"]),
        seconds=seconds,
        p50_ms=data["p50_ms"],
        p99_ms=data["p99_ms"],
        errors=0,
        tool="in-process",
        peak_rss_mb=data["peak_rss_mb"],
        peak_process_rss_mb=data["peak_rss_mb"],
        processes=1,
        cpu_ms=data["cpu_ms"],
    )


def median(results: list[harness.LoadResult]) -> harness.LoadResult:
    """The round with the median throughput, with the peak RSS of all rounds."""
    ranked = sorted(results, key=lambda r: r.rps)
    middle = ranked[len(ranked) // 2]
    middle.peak_rss_mb = max(r.peak_rss_mb for r in results)
    middle.peak_process_rss_mb = max(r.peak_process_rss_mb for r in results)
    return middle


def fmt(result: harness.LoadResult | None) -> str:
    if result is None:
        return f"{'-':>9} {'-':>9} {'-':>9} {'-':>10} {'-':>10}"
    errors = f"  ({result.errors} errors)" if result.errors else ""
    return (
        f"{result.rps:9.1f} {result.p50_ms:9.1f} {result.p99_ms:9.1f} "
        f"{result.peak_rss_mb:10.0f} {result.cpu_ms:10.2f}{errors}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.tool in ("auto", "wrk"):
        harness.ensure_wrk()
    tool = "wrk" if args.tool == "wrk" or (args.tool == "auto" and harness.wrk_path()) else "httpx"
    print(
        f"delivery benchmark: {harness.cpu_count()} cores, Python {platform.python_version()}, "
        f"load by {tool}, {args.connections} connections, {args.rounds} rounds of "
        f"misses {args.miss_seconds:.0f}s / hits {args.hit_seconds:.0f}s",
        flush=True,
    )
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "tool": tool,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    rounds: dict[str, list[harness.LoadResult]] = {}
    started: list[servers.Server] = []

    def load(server: servers.Server, paths: list[str], seconds: float) -> harness.LoadResult:
        harness.wait_idle(server.pid)
        return harness.measure(
            server.pid,
            server.base_url,
            paths,
            seconds=seconds,
            connections=args.connections,
            tool=args.tool,
        )

    with tempfile.TemporaryDirectory(prefix="banatie-bench-") as tmp:
        workdir = Path(tmp)
        source_path = workdir / "bench.png"
        source = make_source(source_path)
        print(f"source: 1344x768 PNG, {len(source) / 1e6:.2f} MB", flush=True)
        try:
            print(f"starting banatie ({args.workers} workers) ...", flush=True)
            env = {"BANATIE_CPU_WORKERS": str(args.cpu_workers)}
            setup = servers.start_banatie(workdir, source, workers=args.workers, extra_env=env)
            started.append(setup.server)
            image = setup.image_id
            key = servers.SIGNING_KEY
            contenders: dict[str, tuple[servers.Server, Callable[[int, int], str]]] = {
                "banatie": (setup.server, lambda w, q: banatie_path(image, w, q, key))
            }
            if not args.skip_thumbor:
                print(f"starting thumbor ({args.thumbor_processes} processes) ...", flush=True)
                try:
                    thumbor = servers.start_thumbor(
                        workdir, source, processes=args.thumbor_processes
                    )
                except (servers.ThumborUnavailable, RuntimeError) as exc:
                    results["thumbor_error"] = str(exc)
                    print(f"thumbor unavailable: {exc}", flush=True)
                else:
                    started.append(thumbor)
                    contenders["thumbor"] = (thumbor, thumbor_path)

            combos = miss_combos()
            for server, path in contenders.values():  # warm up (imports, pools, ...)
                warmup = [path(w, q) for w, q in combos[-600:]]
                harness.run_load(
                    server.base_url, warmup, seconds=2, connections=args.connections, tool=tool
                )
            for r in range(args.rounds):
                print(f"misses, round {r + 1}/{args.rounds} ...", flush=True)
                if not args.skip_raw:
                    harness.wait_idle(setup.server.pid)
                    rounds.setdefault("raw pyvips", []).append(
                        run_raw(source_path, args.miss_seconds)
                    )
                    rounds.setdefault("raw pyvips, PNG decoded once", []).append(
                        run_raw(source_path, args.miss_seconds / 2, decoded=True)
                    )
                chunk = combos[r * ROUND_SLICE : (r + 1) * ROUND_SLICE]
                for name, (server, path) in contenders.items():
                    paths = [path(w, q) for w, q in chunk]
                    rounds.setdefault(f"{name} misses", []).append(
                        load(server, paths, args.miss_seconds)
                    )

            for server, path in contenders.values():
                harness.wait_idle(server.pid)
                asyncio.run(servers.warm(server.base_url, [path(w, q) for w, q in hit_combos()]))
            for r in range(args.rounds):
                print(f"hits, round {r + 1}/{args.rounds} ...", flush=True)
                for name, (server, path) in contenders.items():
                    paths = [path(w, q) for w, q in hit_combos()]
                    rounds.setdefault(f"{name} hits", []).append(
                        load(server, paths, args.hit_seconds)
                    )
            for server in started:
                server.stop()
            started.clear()

            # The same hits with the per-process image-row cache off: every hit reads SQLite.
            print("banatie hits with the image-row cache off ...", flush=True)
            uncached = servers.launch_banatie(
                workdir,
                workers=args.workers,
                extra_env={**env, "BANATIE_DELIVERY_METADATA_TTL_SECONDS": "0"},
            )
            started.append(uncached)
            paths = [banatie_path(image, w, q, key) for w, q in hit_combos()]
            asyncio.run(servers.warm(uncached.base_url, paths))
            for _ in range(args.rounds):
                rounds.setdefault("banatie hits (row cache off)", []).append(
                    load(uncached, paths, args.hit_seconds)
                )
        finally:
            for server in started:
                server.stop()

    summary = {name: median(results) for name, results in rounds.items()}
    results["rounds"] = {
        name: [{**r.__dict__, "rps": r.rps} for r in results] for name, results in rounds.items()
    }
    results["median"] = {name: {**r.__dict__, "rps": r.rps} for name, r in summary.items()}

    print()
    print(f"median of {args.rounds} rounds")
    print(f"{'':34} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'RSS MB':>10} {'CPU ms/req':>10}")
    for name in (
        "raw pyvips",
        "raw pyvips, PNG decoded once",
        "banatie misses",
        "thumbor misses",
        "banatie hits",
        "thumbor hits",
        "banatie hits (row cache off)",
    ):
        print(f"{name:34} {fmt(summary.get(name))}")

    ratios: dict[str, float] = {}
    banatie_miss, banatie_hit = summary["banatie misses"], summary["banatie hits"]
    if "raw pyvips" in summary:
        ratios["misses vs raw pyvips"] = banatie_miss.rps / summary["raw pyvips"].rps
        ratios["misses, CPU/request, raw / banatie"] = (
            summary["raw pyvips"].cpu_ms / banatie_miss.cpu_ms
        )
        decoded = summary["raw pyvips, PNG decoded once"]
        ratios["misses vs raw pyvips from decoded pixels"] = banatie_miss.rps / decoded.rps
    if "thumbor misses" in summary:
        ratios["misses vs thumbor"] = banatie_miss.rps / summary["thumbor misses"].rps
        ratios["hits vs thumbor"] = banatie_hit.rps / summary["thumbor hits"].rps
        ratios["misses, CPU/request, thumbor / banatie"] = (
            summary["thumbor misses"].cpu_ms / banatie_miss.cpu_ms
        )
        ratios["hits, CPU/request, thumbor / banatie"] = (
            summary["thumbor hits"].cpu_ms / banatie_hit.cpu_ms
        )
        ratios["hits (row cache off) vs thumbor"] = (
            summary["banatie hits (row cache off)"].rps / summary["thumbor hits"].rps
        )
    rss = max(banatie_miss.peak_rss_mb, banatie_hit.peak_rss_mb)
    print()
    for name, ratio in ratios.items():
        target = TARGETS.get(name)
        if target is None:
            print(f"{name:44} {ratio:6.2f}x")
            continue
        verdict = "met" if ratio >= target else "MISSED"
        print(f"{name:44} {ratio:6.2f}x   target >= {target:.1f}x   {verdict}")
    verdict = "met" if rss < RSS_TARGET_MB else "MISSED"
    label = f"banatie peak RSS (all {banatie_miss.processes} processes)"
    print(f"{label:44} {rss:6.0f} MB  target < {RSS_TARGET_MB:.0f} MB   {verdict}")
    results["ratios"] = ratios
    results["banatie_peak_rss_mb"] = rss
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
