"""`python -m bench.queues`: the job queue candidates measured on this machine's PostgreSQL and
Redis (docs/operations.md, "Choosing the job queue").

For procrastinate (PostgreSQL) and arq (Redis):

1. latency: one job at a time, enqueue -> the task starts (a worker already waiting);
2. throughput: N no-op jobs enqueued, then one worker (concurrency 10) drains them: jobs/s;
3. kill -9: a worker process starts a long job and is killed with SIGKILL; a second worker is
   running: does it take the job, and after how long? (procrastinate: through its stalled-job
   query, as `banatie worker` uses it; arq: by itself once the job's in-progress key expires);
4. transactional enqueue: is a job enqueued in a database transaction that rolls back gone?

Needs PostgreSQL (BANATIE_BENCH_PG_URL, default the test server) and Redis (BANATIE_BENCH_REDIS).
Prints a table and writes bench/results/queues.json. arq is a dev dependency (bench only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import multiprocessing
import os
import signal
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("BANATIE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BANATIE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
# How long a job may be silent before it counts as stalled: the same order for both candidates
# (procrastinate: worker heartbeat age; arq: job_timeout, its in-progress key lives 10 s more).
STALL_SECONDS = 10
LONG_JOB_SECONDS = 60


async def pop(r: Any, key: str, within: float) -> Any:
    """BLPOP in short waits (redis-py's socket timeout is 5 s); None after `within` seconds."""
    deadline = time.time() + within
    while time.time() < deadline:
        got = await r.blpop([key], timeout=2)
        if got is not None:
            return got[1]
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
    }


# --- procrastinate -------------------------------------------------------------------------


def procrastinate_app(url: str) -> Any:
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop(sent: float, key: str) -> None:
        started = time.time()
        r = aioredis.from_url(REDIS_URL)
        await r.rpush(key, json.dumps([started - sent, os.getpid()]))
        await r.aclose()

    @app.task(name="long")
    async def long(key: str) -> None:
        r = aioredis.from_url(REDIS_URL)
        await r.rpush(key, json.dumps([time.time(), os.getpid()]))
        await r.aclose()
        await asyncio.sleep(LONG_JOB_SECONDS)

    return app


async def procrastinate_worker(app: Any, *, concurrency: int, wait: bool) -> None:
    await app.run_worker_async(
        concurrency=concurrency,
        wait=wait,
        install_signal_handlers=False,
        update_heartbeat_interval=STALL_SECONDS / 5,
        stalled_worker_timeout=STALL_SECONDS,
    )


async def procrastinate_retry_stalled(app: Any) -> None:
    """What `banatie worker` runs beside its worker: stalled jobs back to `todo`."""
    while True:
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALL_SECONDS):
            await app.job_manager.retry_job(job)
        await asyncio.sleep(1)


def procrastinate_worker_process(url: str, retry_stalled: bool) -> None:
    logging.basicConfig(level=logging.WARNING)

    async def main() -> None:
        app = procrastinate_app(url)
        async with app.open_async():
            tasks = [asyncio.create_task(procrastinate_worker(app, concurrency=2, wait=True))]
            if retry_stalled:
                tasks.append(asyncio.create_task(procrastinate_retry_stalled(app)))
            await asyncio.gather(*tasks)

    asyncio.run(main())


async def bench_procrastinate(url: str, samples: int, jobs: int) -> dict[str, Any]:
    app = procrastinate_app(url)
    r = aioredis.from_url(REDIS_URL)
    out: dict[str, Any] = {"library": "procrastinate", "backend": "PostgreSQL"}
    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        noop = app.tasks["noop"]
        # 1. latency
        worker = asyncio.create_task(procrastinate_worker(app, concurrency=1, wait=True))
        await asyncio.sleep(1)
        key = f"bench:q:{uuid.uuid4().hex}"
        latencies = []
        for _ in range(samples):
            await noop.defer_async(sent=time.time(), key=key)
            raw = await pop(r, key, 10)
            latencies.append(json.loads(raw)[0])
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        out["latency"] = summary(latencies)
        # 2. throughput
        key = f"bench:q:{uuid.uuid4().hex}"
        started = time.perf_counter()
        await noop.batch_defer_async(*({"sent": 0.0, "key": key} for _ in range(jobs)))
        enqueued = time.perf_counter() - started
        started = time.perf_counter()
        await procrastinate_worker(app, concurrency=10, wait=False)
        drained = time.perf_counter() - started
        assert await r.llen(key) == jobs
        await r.delete(key)
        out["enqueue_per_s"] = round(jobs / enqueued)
        out["jobs_per_s"] = round(jobs / drained)
        # 4. transactional enqueue: the same SQL function procrastinate calls, in our transaction
        with psycopg.connect(url) as connection:
            before = count_procrastinate_jobs(connection)
            connection.execute(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'noop', 0, NULL, NULL,"
                " '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1])"
            )
            connection.rollback()
            out["transactional_enqueue"] = count_procrastinate_jobs(connection) == before
    # 3. kill -9
    out["kill9"] = await kill_and_watch(
        functools.partial(procrastinate_worker_process, url, True),
        functools.partial(defer_long_procrastinate, url),
    )
    await r.aclose()
    return out


def count_procrastinate_jobs(connection: psycopg.Connection[Any]) -> int:
    row = connection.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()
    return int(row[0]) if row else 0


async def defer_long_procrastinate(url: str, key: str) -> None:
    app = procrastinate_app(url)
    async with app.open_async():
        await app.tasks["long"].defer_async(key=key)


# --- arq -----------------------------------------------------------------------------------


def arq_settings() -> Any:
    from arq.connections import RedisSettings

    return RedisSettings.from_dsn(REDIS_URL)


async def arq_noop(ctx: dict[str, Any], sent: float, key: str) -> None:
    await ctx["redis"].rpush(key, json.dumps([time.time() - sent, os.getpid()]))


async def arq_long(ctx: dict[str, Any], key: str) -> None:
    await ctx["redis"].rpush(key, json.dumps([time.time(), os.getpid()]))
    await asyncio.sleep(LONG_JOB_SECONDS)


def arq_worker(queue: str, *, burst: bool, max_jobs: int) -> Any:
    from arq.worker import Worker, func

    return Worker(
        functions=[func(arq_noop, name="noop"), func(arq_long, name="long")],  # type: ignore[arg-type]
        redis_settings=arq_settings(),
        queue_name=queue,
        burst=burst,
        max_jobs=max_jobs,
        job_timeout=STALL_SECONDS,
        handle_signals=False,
        keep_result=0,
    )


def arq_worker_process(queue: str) -> None:
    async def main() -> None:  # arq's Worker takes the running loop when it is made
        await arq_worker(queue, burst=False, max_jobs=2).async_run()

    asyncio.run(main())


async def bench_arq(samples: int, jobs: int) -> dict[str, Any]:
    from arq import create_pool

    queue = f"bench:arq:{uuid.uuid4().hex}"
    pool = await create_pool(arq_settings(), default_queue_name=queue)
    out: dict[str, Any] = {"library": "arq", "backend": "Redis"}
    worker = arq_worker(queue, burst=False, max_jobs=1)
    running = asyncio.create_task(worker.async_run())
    await asyncio.sleep(1)
    key = f"bench:q:{uuid.uuid4().hex}"
    latencies = []
    for _ in range(samples):
        await pool.enqueue_job("noop", time.time(), key)
        raw = await pop(pool, key, 10)
        latencies.append(json.loads(raw)[0])
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    with contextlib.suppress(asyncio.CancelledError):
        await worker.close()
    out["latency"] = summary(latencies)
    key = f"bench:q:{uuid.uuid4().hex}"
    started = time.perf_counter()
    for _ in range(jobs):
        await pool.enqueue_job("noop", 0.0, key)
    enqueued = time.perf_counter() - started
    started = time.perf_counter()
    burst = arq_worker(queue, burst=True, max_jobs=10)
    await burst.async_run()
    await burst.close()
    drained = time.perf_counter() - started
    assert await pool.llen(key) == jobs
    await pool.delete(key)
    out["enqueue_per_s"] = round(jobs / enqueued)
    out["jobs_per_s"] = round(jobs / drained)
    # Redis has no part in PostgreSQL's transaction: a job enqueued before a rollback stays.
    out["transactional_enqueue"] = False
    out["kill9"] = await kill_and_watch(
        functools.partial(arq_worker_process, queue), functools.partial(enqueue_long_arq, queue)
    )
    await pool.aclose()
    return out


async def enqueue_long_arq(queue: str, key: str) -> None:
    from arq import create_pool

    pool = await create_pool(arq_settings(), default_queue_name=queue)
    await pool.enqueue_job("long", key)
    await pool.aclose()


# --- kill -9 ---------------------------------------------------------------------------------


async def kill_and_watch(worker_target: Any, enqueue: Any, within: float = 90) -> dict[str, Any]:
    """Two worker processes; the long job starts on one, which is killed with SIGKILL: seconds
    until the job starts again on the other (None: not within `within` seconds)."""
    context = multiprocessing.get_context("spawn")
    first = context.Process(target=worker_target, daemon=True)
    second = context.Process(target=worker_target, daemon=True)
    first.start()
    second.start()
    r = aioredis.from_url(REDIS_URL)
    key = f"bench:q:{uuid.uuid4().hex}"
    try:
        await asyncio.sleep(2)
        await enqueue(key)
        got = await pop(r, key, 20)
        assert got is not None, "the long job never started"
        _, pid = json.loads(got)
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        again = await pop(r, key, within)
        if again is None:
            return {"taken_over": False, "after_s": None}
        restarted, other = json.loads(again)
        return {"taken_over": other != pid, "after_s": round(restarted - killed_at, 1)}
    finally:
        for process in (first, second):
            if process.is_alive():
                process.kill()
            process.join(5)
        await r.delete(key)
        await r.aclose()


async def main(samples: int, jobs: int) -> list[dict[str, Any]]:
    name = f"banatie_bench_queues_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        return [await bench_procrastinate(url, samples, jobs), await bench_arq(samples, jobs)]
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'library':<14} {'p50 ms':>8} {'p95 ms':>8} {'enq/s':>7} {'jobs/s':>7} "
        f"{'kill -9: taken over after':>26} {'transactional':>14}"
    )
    for row in rows:
        kill = row["kill9"]
        after = f"{kill['after_s']} s" if kill["taken_over"] else "no"
        print(
            f"{row['library']:<14} {row['latency']['p50_ms']:>8} {row['latency']['p95_ms']:>8} "
            f"{row['enqueue_per_s']:>7} {row['jobs_per_s']:>7} {after:>26} "
            f"{'yes' if row['transactional_enqueue'] else 'no':>14}"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queues", description=__doc__)
    parser.add_argument("--samples", type=int, default=200, help="latency samples")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs for the throughput run")
    args = parser.parse_args()
    rows = asyncio.run(main(args.samples, args.jobs))
    report(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "queues.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    # Through the imported module: procrastinate's app and the spawned workers must not live
    # in `__main__`.
    from bench import queues

    queues.cli()
