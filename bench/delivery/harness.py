"""Load generation and measurement: wrk when it is installed (`apt-get install wrk`), else an
async httpx client; the peak RSS of a server's whole process tree, sampled from /proc."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

WRK_SCRIPT = r"""
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  step = tonumber(args[2])
  i = tid
end
function request()
  local path = paths[(i % #paths) + 1]
  i = i + step
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %d, "duration_us": %d, "socket_errors": %d, "status_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str
    peak_rss_mb: float = 0.0
    peak_process_rss_mb: float = 0.0
    processes: int = 0
    cpu_ms: float = 0.0  # server CPU time (all its processes) per request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def ensure_wrk() -> str | None:
    """wrk from Debian's packages when it is missing and we may install it; else None (the
    benchmark then falls back to the httpx load generator, which costs more CPU per request)."""
    if wrk_path() or os.geteuid() != 0 or not shutil.which("apt-get"):
        return wrk_path()
    print("installing wrk (apt-get install wrk) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=300, check=True)
        except (subprocess.SubprocessError, OSError):
            break
    return wrk_path()


def run_wrk(
    base_url: str, paths: list[str], *, seconds: float, connections: int, threads: int = 2
) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(WRK_SCRIPT)
        listing = Path(tmp) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        command = [
            str(wrk_path()),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            base_url,
            "--",
            str(listing),
            str(threads),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return LoadResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=int(data["socket_errors"]) + int(data["status_errors"]),
        tool="wrk",
    )


async def _httpx_load(
    base_url: str, paths: list[str], seconds: float | None, connections: int
) -> LoadResult:
    """Round-robin over `paths` for `seconds`; with `seconds=None`, each path exactly once."""
    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        start = time.perf_counter()
        deadline = None if seconds is None else start + seconds

        def more() -> bool:
            if deadline is None:
                return counter < len(paths)
            return time.perf_counter() < deadline

        async def worker() -> None:
            nonlocal counter, errors
            while more():
                path = paths[counter % len(paths)]
                counter += 1
                began = time.perf_counter()
                try:
                    response = await client.get(path)
                    await response.aread()
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - began)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    return LoadResult(
        requests=n,
        seconds=elapsed,
        p50_ms=latencies[n // 2] * 1000 if n else 0.0,
        p99_ms=latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        errors=errors,
        tool="httpx" if seconds is not None else "httpx, each path once",
    )


def run_load(
    base_url: str, paths: list[str], *, seconds: float, connections: int, tool: str = "auto"
) -> LoadResult:
    if tool == "wrk" or (tool == "auto" and wrk_path()):
        return run_wrk(base_url, paths, seconds=seconds, connections=connections)
    return asyncio.run(_httpx_load(base_url, paths, seconds, connections))


# -- memory -----------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += _children(current)
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds while running."""

    pid: int
    interval: float = 0.1
    peak_total_mb: float = 0.0
    peak_process_mb: float = 0.0
    processes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        pids = process_tree(self.pid)
        sizes = [rss_mb(p) for p in pids]
        self.processes = max(self.processes, len(pids))
        self.peak_total_mb = max(self.peak_total_mb, sum(sizes))
        self.peak_process_mb = max(self.peak_process_mb, max(sizes, default=0.0))

    def __enter__(self) -> RssSampler:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.sample()

        self.sample()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()


def measure(
    pid: int,
    base_url: str,
    paths: list[str],
    *,
    seconds: float,
    connections: int,
    tool: str = "auto",
) -> LoadResult:
    pids = process_tree(pid)
    cpu_before = cpu_seconds(pids)
    with RssSampler(pid) as rss:
        result = run_load(base_url, paths, seconds=seconds, connections=connections, tool=tool)
    cpu = cpu_seconds(pids) - cpu_before
    result.cpu_ms = cpu * 1000 / result.requests if result.requests else 0.0
    result.peak_rss_mb = rss.peak_total_mb
    result.peak_process_rss_mb = rss.peak_process_mb
    result.processes = rss.processes
    return result


def wait_idle(pid: int, *, busy_below: float = 0.1, timeout: float = 30.0) -> None:
    """Wait until a server has finished what a load run left in flight (a load generator
    that stops leaves requests the server still completes): CPU use under `busy_below`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = process_tree(pid)
        before = cpu_seconds(pids)
        time.sleep(0.5)
        if (cpu_seconds(pids) - before) / 0.5 < busy_below:
            return


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def measure_once(pid: int, base_url: str, paths: list[str], *, connections: int) -> LoadResult:
    """Every path requested exactly once by `connections` concurrent clients (a miss stays a
    miss: no path is repeated), with the server's CPU per request and peak RSS."""
    pids = process_tree(pid)
    cpu_before = cpu_seconds(pids)
    with RssSampler(pid) as rss:
        result = asyncio.run(_httpx_load(base_url, paths, None, connections))
    cpu = cpu_seconds(process_tree(pid)) - cpu_before
    result.cpu_ms = cpu * 1000 / result.requests if result.requests else 0.0
    result.peak_rss_mb = rss.peak_total_mb
    result.peak_process_rss_mb = rss.peak_process_mb
    result.processes = rss.processes
    return result
