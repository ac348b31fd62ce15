"""`GET /metrics`: the Prometheus text format, for a scraper.

Off with `BANATIE_METRICS_ENABLED=false` (a 404 like any unknown path); with
`BANATIE_METRICS_TOKEN` set it answers only `Authorization: Bearer <token>` (Prometheus'
`authorization` scrape option), so that a server reachable from the internet does not show its
traffic to anyone.
"""

from __future__ import annotations

import hmac
import logging
from typing import Final

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client import multiprocess as mp
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from banatie.db.base import utcnow
from banatie.deps import RuntimeDep
from banatie.errors import Unauthorized
from banatie.observability import metrics, repository
from banatie.runtime import Runtime

log = logging.getLogger(__name__)

router = APIRouter(tags=["ops"])
METRICS_PATH: Final = "/metrics"


@router.get(METRICS_PATH, include_in_schema=False)
async def prometheus_metrics(request: Request, runtime: RuntimeDep) -> Response:
    token = runtime.settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip(), token):
            raise Unauthorized(
                "/metrics needs Authorization: Bearer <BANATIE_METRICS_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
    body = await run_in_threadpool(_process_metrics)
    body += generate_latest(await _work_metrics(runtime))
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _process_metrics() -> bytes:
    """This process's metrics, or every worker's added up in multiprocess mode."""
    metrics.sample_memory()
    if not metrics.multiprocess():
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


class _Families(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self.families


async def _work_metrics(runtime: Runtime) -> CollectorRegistry:
    """Gauges of shared state, read from the database now (any replica reports them)."""
    families = []
    up = GaugeMetricFamily(
        "banatie_metrics_database_up", "1 when the gauges below could be read from the database"
    )
    try:
        async with runtime.sessionmaker() as session:
            state = await repository.work_state(session)
    except Exception as exc:  # a scrape must still answer while the database is down
        log.warning("metrics: the database did not answer: %s", exc)
        up.add_metric([], 0)
    else:
        up.add_metric([], 1)
        now = utcnow()
        for name, text, backlog in (
            ("generations_in_progress", "generations running now", state.generations_in_progress),
            (
                "jobs_queued",
                "queued generations (async, batch) waiting for a worker",
                state.jobs_queued,
            ),
            ("cdn_purges_pending", "CDN purges waiting in the outbox", state.cdn_purges_pending),
            (
                "blob_deletions_pending",
                "blob deletions waiting in the outbox",
                state.blob_deletions_pending,
            ),
        ):
            count = GaugeMetricFamily(f"banatie_{name}", f"Rows: {text}")
            count.add_metric([], backlog.count)
            age = GaugeMetricFamily(
                f"banatie_{name}_oldest_age_seconds",
                f"Age of the oldest of the {text} (0: none)",
            )
            age.add_metric([], (now - backlog.oldest).total_seconds() if backlog.oldest else 0.0)
            families += [count, age]
        failed = GaugeMetricFamily(
            "banatie_cdn_purges_failed", "CDN purges that gave up after their last attempt"
        )
        failed.add_metric([], state.cdn_purges_failed)
        workers = GaugeMetricFamily(
            "banatie_workers_registered", "Server processes registered as workers (heartbeat)"
        )
        workers.add_metric([], state.workers)
        families += [failed, workers]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([up, *families]))
    return registry
