"""`/metrics`: the Prometheus text format, parsed by Prometheus' own parser, moving when work
happens; protected by a token or switched off by settings."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from banatie.app import create_app
from banatie.observability.instrumented import MeasuredSynthesizer
from banatie.observability.tracing import Tracing
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.synthesizers import FailingSynthesizer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def test_metrics_move_when_work_happens(client: httpx.AsyncClient, keys: Keys) -> None:
    before = await scrape(client)
    created = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a lighthouse"}
    )
    assert created.status_code == 201
    image_id = created.json()["data"]["outputImage"]["id"]
    # A variant rendered, then served from its cache, then from memory (the fast paths' own
    # hits, counted as every other answer).
    for _ in range(4):
        assert (await client.get(f"/cdn/acme/site/img/{image_id}?w=50")).status_code == 200
    for _ in range(4):  # a live miss, then hits
        assert (await client.get("/cdn/acme/site/live/blog?prompt=a+cat")).status_code == 200
    await client.get("/api/v1/images", headers={"X-API-Key": "bnt_" + "x" * 43})
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = {"method": "POST", "route": "/api/v1/generations", "status": "201"}
    assert moved("banatie_http_requests_total", **route) == 1
    assert moved("banatie_http_request_duration_seconds_count", **route) == 1
    assert moved("banatie_http_requests_total", route="/cdn/{org}/{project}/img/{ref}") == 4
    assert moved("banatie_api_errors_total", code="UNAUTHORIZED") == 1
    assert moved("banatie_generations_total", outcome="success") == 2  # the API's and live's
    for stage in ("enhance", "synthesize", "analyze", "persist"):
        assert moved("banatie_pipeline_stage_duration_seconds_count", stage=stage) == 2, stage
    assert moved("banatie_delivery_responses_total", cache="miss") == 1
    assert moved("banatie_delivery_responses_total", cache="hit") == 3
    assert moved("banatie_live_responses_total", cache="miss") == 1
    assert moved("banatie_live_responses_total", cache="hit") == 3
    live = {"route": "/cdn/{org}/{project}/live/{scope}", "status": "200"}
    assert moved("banatie_http_request_duration_seconds_count", **live) == 4
    assert moved("banatie_storage_operation_duration_seconds_count", operation="put") >= 3
    # Read from the database at scrape time.
    assert value(after, "banatie_metrics_database_up") == 1
    assert value(after, "banatie_generations_in_progress") == 0
    assert value(after, "banatie_cdn_purges_pending") >= 0
    # This process's resident memory, sampled at the scrape.
    assert 20e6 < value(after, "banatie_worker_resident_memory_bytes") < 4e9


async def test_provider_failures_are_counted_by_code(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys
) -> None:
    runtime = app.state.runtime
    # As build_runtime wraps every adapter.
    runtime.synthesizer = MeasuredSynthesizer(FailingSynthesizer(), Tracing())
    before = await scrape(client)
    failed = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a fox"}
    )
    assert failed.status_code == 502
    after = await scrape(client)
    labels = {"stage": "synthesize", "code": "PROVIDER_ERROR"}
    assert (
        value(after, "banatie_provider_errors_total", **labels)
        - value(before, "banatie_provider_errors_total", **labels)
        == 1
    )
    assert (
        value(after, "banatie_generation_failures_total", code="PROVIDER_ERROR")
        - value(before, "banatie_generation_failures_total", code="PROVIDER_ERROR")
        == 1
    )


@pytest.fixture
def metrics_app_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": "scrape-token-1234"})


async def test_a_token_protects_metrics(metrics_app_settings: Settings) -> None:
    app = create_app(metrics_app_settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            refused = await http.get("/metrics")
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "UNAUTHORIZED"
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            await scrape(http, Authorization="Bearer scrape-token-1234")
    finally:
        await app.state.runtime.close()


async def test_metrics_can_be_switched_off(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.model_copy(update={"metrics_enabled": False}))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/metrics")).status_code == 404
    finally:
        await app.state.runtime.close()
