"""Prometheus metrics (`prometheus-client`), served at `/metrics` (banatie.observability.router).

Counters and histograms live in this process; with `banatie serve --workers N` each worker
writes them to files in `PROMETHEUS_MULTIPROC_DIR` (set up by `serve`) and a scrape of any
worker adds every worker's up. Gauges of shared state (outboxes, work in flight) are read from
the database at scrape time (banatie.observability.repository), so any replica reports them.

Labels are bounded: route templates (never paths), status codes, stable error codes, adapter
and model names.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

#: Seconds: from a cached `/cdn` hit (a millisecond) to a slow generation (minutes).
LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    120.0, 300.0,
)  # fmt: skip

HTTP_REQUESTS: Final = Counter(
    "banatie_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_DURATION: Final = Histogram(
    "banatie_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS: Final = Gauge(
    "banatie_http_requests_in_progress",
    "HTTP requests being answered now",
    multiprocess_mode="livesum",
)
API_ERRORS: Final = Counter(
    "banatie_api_errors",
    "Error answers, by the stable code of their body (error.code)",
    ["code"],
)
QUOTA_REFUSALS: Final = Counter(
    "banatie_quota_refusals",
    "429 answers: rate limits, the monthly allowance, live URL budgets, by code",
    ["code"],
)
GENERATIONS: Final = Counter(
    "banatie_generations",
    "Finished generations, by outcome (success, failed, interrupted) and model",
    ["outcome", "model"],
)
GENERATION_FAILURES: Final = Counter(
    "banatie_generation_failures",
    "Failed generations, by error code",
    ["code"],
)
STAGE_DURATION: Final = Histogram(
    "banatie_pipeline_stage_duration_seconds",
    "Time of a pipeline stage (enhance, synthesize, analyze, persist), by adapter and outcome",
    ["stage", "adapter", "outcome"],
    buckets=LATENCY_BUCKETS,
)
PROVIDER_ERRORS: Final = Counter(
    "banatie_provider_errors",
    "Provider failures of the enhance, synthesize and analyze stages, by adapter and code",
    ["stage", "adapter", "code"],
)
STORAGE_DURATION: Final = Histogram(
    "banatie_storage_operation_duration_seconds",
    "Time of a blob store operation, by operation and outcome (ok, not_found, error)",
    ["operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)
DELIVERY_RESPONSES: Final = Counter(
    "banatie_delivery_responses",
    "/cdn image answers by variant cache result: hit, miss (rendered now), coalesced "
    "(joined a render in flight), original (no transformation)",
    ["cache"],
)
LIVE_RESPONSES: Final = Counter(
    "banatie_live_responses",
    "Live URL answers by cache result (hit, miss)",
    ["cache"],
)
LIVE_JOINS: Final = Counter(
    "banatie_live_single_flight_joins",
    "Live URL misses that waited for a generation another request started: in this process, "
    "or on another replica",
    ["where"],
)
WEBHOOK_ATTEMPTS: Final = Counter(
    "banatie_webhook_attempts",
    "Webhook delivery attempts by the delivery's state after it (succeeded, pending: to be "
    "retried, failed: retries used up, cancelled: endpoint disabled)",
    ["status"],
)
# Per worker process (`pid` label in multiprocess mode; a stopped worker's series goes):
# memory drift shows here, one line per `banatie serve --workers N` process.
WORKER_RSS: Final = Gauge(
    "banatie_worker_resident_memory_bytes",
    "Resident memory (RSS) of the worker process, sampled every few seconds and at each scrape",
    multiprocess_mode="liveall",
)
MEMORY_SAMPLE_SECONDS: Final = 5.0
JOB_RETRIES: Final = Counter(
    "banatie_job_retries",
    "Queued generations put back on the queue after a transient provider failure, by code",
    ["code"],
)
JOBS_REQUEUED: Final = Counter(
    "banatie_jobs_requeued",
    "Queued generations of a stopped or dead worker given back to the queue",
)


def resident_memory_bytes() -> int | None:
    """This process's resident set size now (Linux: /proc/self/statm; elsewhere the peak)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        try:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        except (ImportError, OSError):
            return None
        return int(peak if sys.platform == "darwin" else peak * 1024)


def sample_memory() -> None:
    rss = resident_memory_bytes()
    if rss is not None:
        WORKER_RSS.set(rss)


async def sample_memory_forever() -> None:
    """The app's lifespan runs this: every worker keeps its own RSS current."""
    while True:
        sample_memory()
        await asyncio.sleep(MEMORY_SAMPLE_SECONDS)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def generation_finished(outcome: str, model: str | None, code: str | None = None) -> None:
    GENERATIONS.labels(outcome, model or "none").inc()
    if code is not None:
        GENERATION_FAILURES.labels(code).inc()


def generations_interrupted(count: int) -> None:
    """Generations a recovery sweep marked failed (`INTERRUPTED`): their process stopped."""
    if count:
        GENERATIONS.labels("interrupted", "none").inc(count)
        GENERATION_FAILURES.labels("INTERRUPTED").inc(count)


def webhook_attempted(status: str) -> None:
    WEBHOOK_ATTEMPTS.labels(status).inc()


def stage_finished(stage: str, adapter: str, outcome: str, seconds: float) -> None:
    STAGE_DURATION.labels(stage, adapter, outcome).observe(seconds)


def process_stopped() -> None:
    """This worker process ends: its live gauges stop counting (multiprocess mode)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
