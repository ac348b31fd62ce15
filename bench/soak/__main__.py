"""`python -m bench.soak` (`make bench-soak`): a soak of mixed traffic across two replicas.

Two `banatie serve` processes on a fresh PostgreSQL database, Redis and moto's S3 server take
`--minutes` (10) of mixed traffic from `--clients` concurrent clients, round-robin: synchronous
generations, async ones (`Prefer: respond-async`, when the server offers them), live URL hits
and misses, variant hits and misses, and list calls. It reports errors (target 0), p50/p99
latency per kind, and each server process's RSS per minute: the drift from the end of a warm-up
(the first tenth of the run, at most a minute; it includes the bounded per-process memory
caches filling up) and over the second half (growth that keeps going: target < 10%). Results
go to bench/results/soak.json. Not part of CI: it takes the whole run and a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.delivery.harness import cpu_count, rss_mb
from bench.delivery.servers import ROOT
from bench.soak import topology, traffic

RESULTS = ROOT / "bench" / "results"
DRIFT_TARGET = 0.10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients")
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server's admin URL (a fresh database is made and dropped)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    return parser.parse_args(argv)


@dataclass
class Memory:
    """RSS samples (MB) of each server process, every `interval` seconds."""

    pids: dict[str, int]
    interval: float = 5.0
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        started = time.monotonic()

        def loop() -> None:
            while True:
                now = time.monotonic() - started
                for name, pid in self.pids.items():
                    self.samples.setdefault(name, []).append((now, rss_mb(pid)))
                if self._stop.wait(self.interval):
                    return

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join()

    def drift(self, warmup: float, window: float) -> dict[str, dict[str, Any]]:
        report = {}
        for name, series in self.samples.items():
            end = series[-1][0]
            after_warmup = [mb for t, mb in series if warmup <= t < warmup + window] or [
                series[0][1]
            ]
            last = [mb for t, mb in series if t >= end - window] or [series[-1][1]]
            half = [mb for t, mb in series if end / 2 - window <= t < end / 2] or [series[0][1]]
            start_mb, end_mb = statistics.mean(after_warmup), statistics.mean(last)
            half_mb = statistics.mean(half)
            report[name] = {
                "after_warmup_mb": round(start_mb, 1),
                "half_way_mb": round(half_mb, 1),
                "last_minute_mb": round(end_mb, 1),
                "peak_mb": round(max(mb for _, mb in series), 1),
                # From the end of the warm-up: includes the bounded memory caches filling up.
                "drift": round((end_mb - start_mb) / start_mb, 4) if start_mb else 0.0,
                # Over the second half, once those caches are full: growth that keeps going.
                "second_half_drift": round((end_mb - half_mb) / half_mb, 4) if half_mb else 0.0,
                "per_minute_mb": [
                    round(statistics.mean([mb for t, mb in series if m * 60 <= t < m * 60 + 60]), 1)
                    for m in range(int(end // 60) + 1)
                    if any(m * 60 <= t < m * 60 + 60 for t, _ in series)
                ],
            }
        return report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def report(results: traffic.Results, memory: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kinds = sorted(set(results.latencies) | set(results.errors))
    return {
        "requests": sum(len(v) for v in results.latencies.values()) + sum(results.errors.values()),
        "errors": sum(results.errors.values()),
        "error_samples": results.samples,
        "kinds": {
            kind: {
                "ok": len(results.latencies.get(kind, [])),
                "errors": results.errors.get(kind, 0),
                "p50_ms": round(percentile(results.latencies.get(kind, []), 0.50) * 1000, 1),
                "p99_ms": round(percentile(results.latencies.get(kind, []), 0.99) * 1000, 1),
            }
            for kind in kinds
        },
        "rss": memory,
    }


def print_report(out: dict[str, Any]) -> None:
    print(f"\nsoak: {out['minutes']} min, {out['clients']} clients, {out['requests']} requests, "
          f"{out['errors']} errors (target 0)")  # fmt: skip
    print(f"{'kind':<18}{'ok':>8}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, row in out["kinds"].items():
        print(f"{kind:<18}{row['ok']:>8}{row['errors']:>8}{row['p50_ms']:>10}{row['p99_ms']:>10}")
    header = ("after warm-up", "half-way", "last minute", "peak", "drift", "2nd half")
    print(f"\n{'process (MB)':<14}" + "".join(f"{h:>14}" for h in header))
    for name, row in out["rss"].items():
        cells = [row["after_warmup_mb"], row["half_way_mb"], row["last_minute_mb"], row["peak_mb"]]
        drifts = [f"{row['drift'] * 100:.1f}%", f"{row['second_half_drift'] * 100:.1f}%"]
        print(f"{name:<14}" + "".join(f"{cell:>14}" for cell in [*cells, *drifts]))
        print(f"{'':<14}per minute: {row['per_minute_mb']}")
    for sample in out["error_samples"]:
        print("  error:", sample)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seconds = args.minutes * 60
    warmup = min(60.0, seconds / 10)
    with tempfile.TemporaryDirectory(prefix="banatie-soak-") as tmp:
        workdir = Path(tmp)
        with (
            topology.fresh_database(args.database_url) as database_url,
            topology.s3_server(workdir) as storage_url,
            topology.replicas(workdir, database_url, storage_url, args.redis_url) as topo,
        ):
            bases = [server.base_url for server in topo.replicas]
            state = traffic.State(bases=bases, key=topo.key)
            state.async_supported = asyncio.run(traffic.detect_async(bases[0], topo.key))
            memory = Memory({server.name: server.pid for server in topo.replicas})
            thread = memory.start()
            started = time.monotonic()
            results = asyncio.run(traffic.run(state, seconds=seconds, clients=args.clients))
            elapsed = time.monotonic() - started
            memory.stop(thread)
            logs = {server.name: server.log.read_text(errors="replace") for server in topo.replicas}
    out = report(results, memory.drift(warmup, window=min(60.0, seconds / 5)))
    out.update(
        minutes=round(elapsed / 60, 2),
        clients=args.clients,
        async_generation=state.async_supported,
        images_made=len(state.images),
        live_urls=len(state.live_prompts),
        machine={"cpus": cpu_count(), "platform": platform.platform()},
        tracebacks=sum(log.count("Traceback") for log in logs.values()),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print_report(out)
    print(f"\nserver tracebacks in the logs: {out['tracebacks']}; results: {args.out}")
    drift_ok = all(row["second_half_drift"] < DRIFT_TARGET for row in out["rss"].values())
    return 0 if out["errors"] == 0 and drift_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
