"""Raw pyvips in-process: the limit. No HTTP, no database, no storage: decode the PNG from
memory, thumbnail with a centre crop, encode WebP at the same effort Banatie uses, on as many
threads as there are cores, with libvips' best settings for throughput here (operation cache
off, one libvips thread per operation; measured faster than the defaults on this machine).
Run as a child process so its peak RSS is its own:

    python -m bench.delivery.raw SOURCE.png --seconds 10 --threads 2     # prints one JSON line
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import threading
import time
from pathlib import Path

import pyvips

from bench.delivery.urls import miss_combos

WEBP_EFFORT = 4  # as banatie.delivery.transform.WEBP_EFFORT


def transform(data: bytes, width: int, quality: int) -> bytes:
    image = pyvips.Image.thumbnail_buffer(data, width, height=300, crop="centre", size="both")
    return bytes(image.webpsave_buffer(Q=quality, effort=WEBP_EFFORT, keep=0))


def transform_decoded(pixels: bytes, size: tuple[int, int, int], width: int, quality: int) -> bytes:
    """The same from pixels decoded once (what Banatie keeps for a PNG): no PNG inflate."""
    image = pyvips.Image.new_from_memory(pixels, *size, "uchar").copy(interpretation="srgb")
    image = pyvips.Image.thumbnail_image(image, width, height=300, crop="centre", size="both")
    return bytes(image.webpsave_buffer(Q=quality, effort=WEBP_EFFORT, keep=0))


def run(
    data: bytes, seconds: float, threads: int, warmup: float = 1.0, decoded: bool = False
) -> dict[str, float]:
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    if decoded:
        image = pyvips.Image.new_from_buffer(data, "")
        pixels, size = image.write_to_memory(), (image.width, image.height, image.bands)

        def work(width: int, quality: int) -> bytes:
            return transform_decoded(pixels, size, width, quality)

    else:

        def work(width: int, quality: int) -> bytes:
            return transform(data, width, quality)

    combos = itertools.cycle(miss_combos())
    lock = threading.Lock()
    latencies: list[float] = []
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    def worker() -> None:
        while True:
            with lock:
                width, quality = next(combos)
            began = time.perf_counter()
            if began >= stop_at:
                return
            work(width, quality)
            ended = time.perf_counter()
            if began >= measure_from and ended <= stop_at:
                with lock:
                    latencies.append(ended - began)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_start = time.process_time()
    for thread in pool:
        thread.join()
    cpu = time.process_time() - cpu_start
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "rps": count / seconds,
        "p50_ms": latencies[count // 2] * 1000 if count else 0.0,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1000 if count else 0.0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_ms": cpu * 1000 / count if count else 0.0,
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--decoded", action="store_true", help="decode the PNG once, up front")
    args = parser.parse_args()
    result = run(args.source.read_bytes(), args.seconds, args.threads, args.warmup, args.decoded)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
