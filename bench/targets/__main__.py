"""`make bench` (`python -m bench.targets`): every target of docs/performance.md as a ratio to
its peer, both measured in this run, on this machine.

Servers, all on 127.0.0.1, started by the benchmark and stopped at its end:

* **Banatie**: `banatie serve`, every option its default (one worker per
  core), SQLite and local blobs in a temp folder, signed URLs;
* **Banatie on uvicorn**: the same app and data under uvicorn, same workers (the server
  `banatie serve` ran before granian: its hits are measured in the same rounds);
* **thumbor** 7.8 (own venv, file loader and file result storage, one process per core);
* **ipx 3** (npm, in bench/ipx; node + sharp/libvips, one process as `ipx serve` runs it);
* **nginx** serving the very bytes Banatie serves, as static files (the limit for hits).

Phases: hits at 64 connections (wrk), interleaved rounds; misses at 32 connections where every
request is a new image (each path requested once), and where every request is a new variant of
one image (the srcset case); the RSS of all Banatie processes idle and during the misses;
granian (`banatie serve`) against uvicorn on the hits; what `import banatie.app` costs a
worker; AVIF effort against time and bytes for a 1600 px variant. Prints each target with its
ratio and writes bench/results/targets.json. `--quick` keeps every phase short (about 3
minutes); the default takes about 6.
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
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pyvips

from bench.delivery import harness, servers
from bench.delivery.source import make_source
from bench.delivery.urls import miss_combos
from bench.live.nginx import start_nginx
from bench.targets import avif

RESULTS = servers.ROOT / "bench" / "results"
ORG, PROJECT = "bench", "main"
LIVE_PATH = (
    f"/cdn/{ORG}/{PROJECT}/live/bench?prompt=a%20red%20fox%20in%20the%20snow&aspectRatio=16:9"
)
HIT_QUALITY = 80


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of hits")
    parser.add_argument("--hit-seconds", type=float, default=5.0)
    parser.add_argument("--miss-seconds", type=float, default=8.0, help="srcset misses")
    parser.add_argument("--images", type=int, default=160, help="new-image misses per server")
    parser.add_argument("--skip-thumbor", action="store_true")
    parser.add_argument("--skip-ipx", action="store_true")
    parser.add_argument("--skip-uvicorn", action="store_true", help="no server comparison")
    parser.add_argument("--quick", action="store_true", help="short phases (about 3 minutes)")
    parser.add_argument("--json", type=Path, default=RESULTS / "targets.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.hit_seconds, args.miss_seconds, args.images = 1, 3.0, 4.0, 80
    return args


# -- sources ----------------------------------------------------------------------------------


def distinct_images(base: bytes, count: int) -> dict[str, bytes]:
    """`count` PNGs of the source's size and kind, each with its own noise (so that no server
    can reuse anything of another: every request is a new image)."""
    image = pyvips.Image.new_from_buffer(base, "").copy_memory()
    out: dict[str, bytes] = {}
    for i in range(count):
        noise = pyvips.Image.gaussnoise(image.width, image.height, sigma=2, mean=0)
        mixed = (image + noise).cast("uchar").copy(interpretation="srgb")
        out[f"img-{i:04d}.png"] = bytes(mixed.pngsave_buffer(compression=1))
    return out


def large_source(base: bytes) -> bytes:
    """A 2752x1536 PNG (a Gemini 2K 16:9 output's size): the source of the 1600 px variant."""
    image = pyvips.Image.new_from_buffer(base, "").resize(2752 / 1344, vscale=1536 / 768)
    return bytes(image.pngsave_buffer(compression=6))


# -- Banatie set-up ---------------------------------------------------------------------------


def upload_all(base_url: str, key: str, images: dict[str, bytes]) -> dict[str, str]:
    """Upload through the API (4 at a time); name -> image id."""

    async def run() -> dict[str, str]:
        ids: dict[str, str] = {}
        queue = list(images)
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:

            async def worker() -> None:
                while queue:
                    name = queue.pop()
                    response = await client.post(
                        "/api/v1/images/upload",
                        headers={"X-API-Key": key},
                        files={"file": (name, images[name], "image/png")},
                    )
                    response.raise_for_status()
                    ids[name] = response.json()["data"]["image"]["id"]

            await asyncio.gather(*(worker() for _ in range(4)))
        return ids

    return asyncio.run(run())


def signed(image_id: str, query: str) -> str:
    from banatie.delivery.signing import sign_query

    path = f"/cdn/{ORG}/{PROJECT}/img/{image_id}"
    return f"{path}?{sign_query(servers.SIGNING_KEY, path, query)}"


def crop_query(width: int, quality: int) -> str:
    return f"w={width}&h=300&mode=crop&format=webp&quality={quality}"


# -- the run ----------------------------------------------------------------------------------


def ratio_line(name: str, value: float, target: float | None, unit: str = "x") -> dict[str, Any]:
    if unit == "%":
        shown = f"{value:7.1%}"
        wanted = f">= {target:.0%}" if target is not None else ""
    elif unit == "ms":
        shown = f"{value:6.1f} ms"
        wanted = f"< {target:.0f} ms" if target is not None else ""
    elif unit == "MB":
        shown = f"{value:6.0f} MB"
        wanted = f"< {target:.0f} MB" if target is not None else ""
    else:
        shown = f"{value:7.2f}x"
        wanted = f">= {target:.1f}x" if target is not None else ""
    met = None
    if target is not None:
        met = value < target if unit in ("ms", "MB") else value >= target
    verdict = "" if met is None else ("met" if met else "MISSED")
    print(f"  {name:58} {shown:>10}   {wanted:12} {verdict}", flush=True)
    return {"value": value, "target": target, "unit": unit, "met": met}


def show(name: str, result: harness.LoadResult) -> None:
    errors = f"  ({result.errors} errors)" if result.errors else ""
    print(
        f"  {name:34} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.1f} ms  p99 "
        f"{result.p99_ms:7.1f} ms  RSS {result.peak_rss_mb:5.0f} MB  CPU/req "
        f"{result.cpu_ms:6.2f} ms{errors}",
        flush=True,
    )


def best(results: list[harness.LoadResult]) -> harness.LoadResult:
    """The median round (throughput), with the peak RSS of all rounds."""
    ranked = sorted(results, key=lambda r: r.rps)
    middle = ranked[len(ranked) // 2]
    middle.peak_rss_mb = max(r.peak_rss_mb for r in results)
    return middle


def import_cost() -> dict[str, float]:
    """What `import banatie.app` + `create_app()` costs one worker (a fresh interpreter; its
    peak RSS from /proc, as getrusage's would include this big parent's)."""
    code = (
        "import time\n"
        "t = time.perf_counter()\n"
        "from banatie.app import create_app\n"
        "create_app()\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
        "print(time.perf_counter() - t, status)\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
        env.pop("GEMINI_API_KEY", None)
        env["BANATIE_DATA_DIR"] = tmp
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
    seconds, rss_kb = done.stdout.split()
    return {"seconds": float(seconds), "rss_mb": int(rss_kb) / 1024}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    harness.ensure_wrk()
    if not harness.wrk_path():
        raise SystemExit("wrk is needed (apt-get install wrk)")
    started_at = time.time()
    load = os.getloadavg()
    cores = harness.cpu_count()
    print(
        f"bench.targets: {cores} cores, Python {platform.python_version()}, load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start",
        flush=True,
    )
    out: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "cores": cores,
        "load_average_start": load,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    measured: dict[str, harness.LoadResult] = {}
    rounds: dict[str, list[harness.LoadResult]] = {}
    running: list[servers.Server] = []
    with tempfile.TemporaryDirectory(prefix="bench-targets-") as tmp:
        workdir = Path(tmp)
        try:
            base = make_source(workdir / "bench.png")
            print(f"making {args.images} distinct 1344x768 PNGs ...", flush=True)
            fresh = distinct_images(base, args.images)
            big = large_source(base)

            print("starting banatie serve (defaults) ...", flush=True)
            banatie = servers.start_serve(workdir)
            running.append(banatie)
            key = (workdir / "banatie-key.txt").read_text().strip()
            ids = upload_all(banatie.base_url, key, {"bench.png": base, "big.png": big, **fresh})
            hero = ids["bench.png"]
            # Serving starts afresh, as after a deploy: what uploading 80 images left in the
            # workers' heaps is not what serving them costs.
            banatie.stop()
            running.remove(banatie)
            banatie = servers.start_serve(workdir)
            running.append(banatie)
            # granian forks the workers from the supervisor (`serve`'s pid): its children.
            workers = len(harness.process_tree(banatie.pid)) - 1
            out["banatie_workers"] = workers
            # Idle, before any request: the supervisor and the workers.
            time.sleep(2)
            idle = {pid: harness.rss_mb(pid) for pid in harness.process_tree(banatie.pid)}
            out["banatie_idle_rss_mb"] = {"total": sum(idle.values()), "processes": idle}
            print(
                f"banatie serve idle: {sum(idle.values()):.0f} MB in {len(idle)} processes ("
                + ", ".join(f"{mb:.0f}" for mb in idle.values())
                + " MB)",
                flush=True,
            )

            thumbor = ipx = uvicorn = None
            if not args.skip_uvicorn:
                print(
                    f"starting uvicorn ({workers} workers), the same app and data ...", flush=True
                )
                uvicorn = servers.start_uvicorn(workdir, workers=workers)
                running.append(uvicorn)
            if not args.skip_thumbor:
                print(f"starting thumbor ({cores} processes) ...", flush=True)
                try:
                    thumbor = servers.start_thumbor(workdir, base, processes=cores, more=fresh)
                    running.append(thumbor)
                except (servers.ThumborUnavailable, RuntimeError) as exc:
                    print(f"thumbor unavailable: {exc}", flush=True)
            if not args.skip_ipx:
                print("starting ipx 3 ...", flush=True)
                try:
                    ipx = servers.start_ipx(workdir, {"hero.png": base, **fresh})
                    running.append(ipx)
                except (servers.IpxUnavailable, RuntimeError) as exc:
                    print(f"ipx unavailable: {exc}", flush=True)

            # -- hits ------------------------------------------------------------------
            variant = signed(hero, crop_query(400, HIT_QUALITY))
            thumbor_hit = f"/unsafe/400x300/filters:format(webp):quality({HIT_QUALITY})/bench.png"
            live_bytes = httpx.get(banatie.base_url + LIVE_PATH, timeout=300).content
            variant_bytes = httpx.get(banatie.base_url + variant, timeout=60).content
            nginx = start_nginx(workdir, {"variant.webp": variant_bytes, "live.png": live_bytes})
            running.append(nginx)
            for _ in range(4 * cores):  # every worker: row, live key and warm reply filled
                for warmed in (banatie, uvicorn):
                    if warmed is not None:
                        httpx.get(warmed.base_url + variant, timeout=60)
                        httpx.get(warmed.base_url + LIVE_PATH, timeout=60)
            if thumbor is not None:
                httpx.get(thumbor.base_url + thumbor_hit, timeout=60)
            out["bytes"] = {"variant": len(variant_bytes), "live": len(live_bytes)}
            print(
                f"hits: variant {len(variant_bytes) / 1000:.0f} KB webp, live "
                f"{len(live_bytes) / 1000:.0f} KB png; 64 connections, {args.rounds} round(s) "
                f"of {args.hit_seconds:.0f} s",
                flush=True,
            )
            hit_cases: list[tuple[str, servers.Server, str]] = [
                ("banatie variant hits", banatie, variant),
                ("nginx, variant bytes", nginx, "/variant.webp"),
                ("banatie live hits", banatie, LIVE_PATH),
                ("nginx, live bytes", nginx, "/live.png"),
            ]
            if thumbor is not None:
                hit_cases.append(("thumbor result-storage hits", thumbor, thumbor_hit))
            if uvicorn is not None:
                hit_cases.append(("uvicorn variant hits", uvicorn, variant))
                hit_cases.append(("uvicorn live hits", uvicorn, LIVE_PATH))
            for _ in range(args.rounds):
                for name, server, path in hit_cases:
                    harness.wait_idle(server.pid)
                    rounds.setdefault(name, []).append(
                        harness.measure(
                            server.pid,
                            server.base_url,
                            [path],
                            seconds=args.hit_seconds,
                            connections=64,
                        )
                    )
            for name, _, _ in hit_cases:
                measured[name] = best(rounds[name])
                show(name, measured[name])

            # -- misses: every request a new image -------------------------------------
            print(
                f"misses, each request a new image ({args.images} images, 400x300 crop webp "
                f"q{HIT_QUALITY}), 32 connections:",
                flush=True,
            )
            names = list(fresh)
            miss_cases: list[tuple[str, servers.Server, list[str]]] = [
                (
                    "banatie misses, new image",
                    banatie,
                    [
                        signed(ids[n], f"w=400&h=300&mode=crop&format=webp&quality={HIT_QUALITY}")
                        for n in names
                    ],
                )
            ]
            if thumbor is not None:
                miss_cases.append(
                    (
                        "thumbor misses, new image",
                        thumbor,
                        [
                            f"/unsafe/400x300/filters:format(webp):quality({HIT_QUALITY})/{n}"
                            for n in names
                        ],
                    )
                )
            if ipx is not None:
                miss_cases.append(
                    (
                        "ipx misses, new image",
                        ipx,
                        [f"/w_400,h_300,fit_cover,f_webp,q_{HIT_QUALITY}/{n}" for n in names],
                    )
                )
            for name, server, paths in miss_cases:
                harness.wait_idle(server.pid)
                measured[name] = harness.measure_once(
                    server.pid, server.base_url, paths, connections=32
                )
                show(name, measured[name])

            # -- misses: every request a new variant of one image (srcset) -------------
            print(
                f"misses, each request a new variant of one image (w and quality vary), "
                f"32 connections, {args.miss_seconds:.0f} s:",
                flush=True,
            )
            combos = miss_combos()
            srcset: list[tuple[str, servers.Server, Callable[[int, int], str]]] = [
                ("banatie misses, srcset", banatie, lambda w, q: signed(hero, crop_query(w, q)))
            ]
            if thumbor is not None:
                srcset.append(
                    (
                        "thumbor misses, srcset",
                        thumbor,
                        lambda w, q: f"/unsafe/{w}x300/filters:format(webp):quality({q})/bench.png",
                    )
                )
            if ipx is not None:
                srcset.append(
                    (
                        "ipx misses, srcset",
                        ipx,
                        lambda w, q: f"/w_{w},h_300,fit_cover,f_webp,q_{q}/hero.png",
                    )
                )
            for name, server, make_path in srcset:
                harness.wait_idle(server.pid)
                measured[name] = harness.measure(
                    server.pid,
                    server.base_url,
                    [make_path(w, q) for w, q in combos[:6000]],
                    seconds=args.miss_seconds,
                    connections=32,
                )
                show(name, measured[name])

            # -- AVIF: the first request of a 1600 px variant, format=auto -------------
            avif_first: dict[str, float] = {}
            for label, accept in (
                ("avif", "image/avif,image/webp,*/*"),
                ("webp", "image/webp,*/*"),
            ):
                harness.wait_idle(banatie.pid)
                path = signed(ids["big.png"], "w=1600&format=auto")  # keyed by the format
                began = time.perf_counter()
                response = httpx.get(
                    banatie.base_url + path, headers={"Accept": accept}, timeout=120
                )
                avif_first[label] = (time.perf_counter() - began) * 1000
                avif_first[f"{label}_bytes"] = len(response.content)
                assert response.headers["content-type"] == f"image/{label}", response.headers
            print(
                f"format=auto, 1600 px, first request: AVIF {avif_first['avif']:.0f} ms "
                f"({avif_first['avif_bytes'] / 1000:.0f} KB), WebP {avif_first['webp']:.0f} ms "
                f"({avif_first['webp_bytes'] / 1000:.0f} KB)",
                flush=True,
            )
            out["format_auto_first_request"] = avif_first

            for server in running:
                server.stop()
            running.clear()

        finally:
            for server in running:
                server.stop()

    print("AVIF effort for a 1600 px variant (in-process, one thread):", flush=True)
    encodings = avif.sweep(big)
    for e in encodings:
        print(f"  {e.label} effort {e.effort}: {e.ms:7.1f} ms  {e.bytes / 1000:6.1f} KB")
    out["avif_sweep"] = [asdict(e) for e in encodings]
    cost = import_cost()
    print(
        f"a worker's start (import banatie.app + create_app): {cost['seconds']:.2f} s, "
        f"{cost['rss_mb']:.0f} MB",
        flush=True,
    )
    out["worker_start"] = cost

    # -- the targets ---------------------------------------------------------------------
    load_end = os.getloadavg()
    print()
    print(
        f"targets (load average {load[0]:.1f} at start, {load_end[0]:.1f} at the end; "
        f"{time.time() - started_at:.0f} s):"
    )
    m = measured
    targets: dict[str, Any] = {}

    def ratio(a: str, b: str) -> float | None:
        if a not in m or b not in m or not m[b].rps:
            return None
        return m[a].rps / m[b].rps

    def add(name: str, value: float | None, target: float | None, unit: str = "x") -> None:
        if value is None:
            print(f"  {name:58} {'-':>10}   (peer not measured)")
            return
        targets[name] = ratio_line(name, value, target, unit)

    add("cached variant hits / live hits", ratio("banatie variant hits", "banatie live hits"), 1.0)
    add(
        "cached variant hits / thumbor result-storage hits",
        ratio("banatie variant hits", "thumbor result-storage hits"),
        3.0,
    )
    add(
        "cached variant hits / nginx, same bytes",
        ratio("banatie variant hits", "nginx, variant bytes"),
        0.35,
        "%",
    )
    add("live hits / nginx, same bytes", ratio("banatie live hits", "nginx, live bytes"), 0.5, "%")
    # The peer of a latency: nginx's p99 on the same bytes in the same run (the machine's).
    for kind, peer in (("variant", "nginx, variant bytes"), ("live", "nginx, live bytes")):
        add(
            f"p99 of {kind} hits, 64 connections (nginx: {m[peer].p99_ms:.1f} ms)",
            m[f"banatie {kind} hits"].p99_ms,
            20.0,
            "ms",
        )
    add(
        "misses, new image / ipx 3",
        ratio("banatie misses, new image", "ipx misses, new image"),
        1.5,
    )
    add(
        "misses, new image / thumbor",
        ratio("banatie misses, new image", "thumbor misses, new image"),
        2.5,
    )
    add("misses, srcset / ipx 3", ratio("banatie misses, srcset", "ipx misses, srcset"), 1.5)
    add("misses, srcset / thumbor", ratio("banatie misses, srcset", "thumbor misses, srcset"), 2.5)
    rss = max(m["banatie misses, new image"].peak_rss_mb, m["banatie misses, srcset"].peak_rss_mb)
    processes = m["banatie misses, new image"].processes
    add(f"RSS of all {processes} Banatie processes, 32 misses", rss, 400.0, "MB")
    add("RSS of all Banatie processes, idle", out["banatie_idle_rss_mb"]["total"], None, "MB")
    add("banatie serve workers / cores", workers / cores, 1.0)
    for kind in ("variant", "live"):
        add(
            f"granian (banatie serve) / uvicorn, {kind} hits",
            ratio(f"banatie {kind} hits", f"uvicorn {kind} hits"),
            None,
        )
        if f"uvicorn {kind} hits" in m:
            add(
                f"  CPU per {kind} hit, uvicorn / granian",
                m[f"uvicorn {kind} hits"].cpu_ms / m[f"banatie {kind} hits"].cpu_ms,
                None,
            )
    out["measured"] = {name: {**asdict(r), "rps": r.rps} for name, r in m.items()}
    out["rounds"] = {
        name: [{**asdict(r), "rps": r.rps} for r in results] for name, results in rounds.items()
    }
    out["targets"] = targets
    out["load_average_end"] = load_end
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
