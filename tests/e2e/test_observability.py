"""`banatie serve` as an operator runs it: JSON log lines, one access line per request with the
request's id, no key in the log."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import free_port, start_server, stop_server

pytestmark = pytest.mark.slow


def test_json_logs_of_a_served_request(tmp_path: Path) -> None:
    server = start_server(tmp_path / "var", free_port(), {"BANATIE_LOG_FORMAT": "json"})
    try:
        headers = {"X-API-Key": server.key, "X-Request-ID": "e2e-gen-1"}
        created = httpx.post(
            f"{server.base_url}/api/v1/generations",
            headers=headers,
            json={"prompt": "a lighthouse at dusk"},
            timeout=60,
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-ID"] == "e2e-gen-1"
        refused = httpx.get(
            f"{server.base_url}/api/v1/images",
            headers={"Authorization": f"Bearer {server.key}x"},
            timeout=10,
        )
        assert refused.status_code == 401
    finally:
        output = stop_server(server)
    # The first-run banner (stdout, printed once for the operator) is the only place the key
    # appears; every log line after it is JSON.
    banner, _, log = output.partition("\n{")
    assert server.key in banner
    records = [json.loads("{" + log.split("\n", 1)[0])]
    records += [json.loads(line) for line in log.split("\n")[1:] if line.strip()]
    assert server.key not in log
    assert records[0]["message"].startswith("Banatie on http://")
    loggers = {record["logger"] for record in records}
    assert {"_granian", "banatie.access"} <= loggers  # the HTTP server's own lines too
    access = [r for r in records if r["logger"] == "banatie.access"]
    (generation,) = [r for r in access if r["request_id"] == "e2e-gen-1"]
    assert generation["route"] == "/api/v1/generations" and generation["status"] == 201
    assert generation["project"] == "default/main"
    (unauthorized,) = [r for r in access if r["route"] == "/api/v1/images"]
    assert unauthorized["status"] == 401 and unauthorized["error_code"] == "UNAUTHORIZED"


def test_the_metrics_of_several_workers_add_up(tmp_path: Path) -> None:
    """`serve --workers 2`: whichever worker a scrape reaches, it reports every worker's
    requests (Prometheus' multiprocess mode, set up by `serve`)."""
    env = {"BANATIE_WORKERS": "2", "BANATIE_LOG_FORMAT": "json"}
    server = start_server(tmp_path / "var", free_port(), env)
    try:
        for _ in range(40):  # a new connection each: the kernel spreads them over the workers
            with httpx.Client() as http:
                assert http.get(f"{server.base_url}/api/info", timeout=10).status_code == 200
        counts = set()
        for _ in range(6):
            with httpx.Client() as http:
                text = http.get(f"{server.base_url}/metrics", timeout=10).text
            (family,) = [
                f for f in text_string_to_metric_families(text) if f.name == "banatie_http_requests"
            ]
            counts.add(
                sum(
                    s.value
                    for s in family.samples
                    if s.name.endswith("_total") and s.labels["route"] == "/api/info"
                )
            )
        # Memory per worker: one RSS series per worker process, whichever worker answers.
        (rss,) = [
            f
            for f in text_string_to_metric_families(text)
            if f.name == "banatie_worker_resident_memory_bytes"
        ]
        worker_rss = {s.labels["pid"]: s.value for s in rss.samples}
    finally:
        output = stop_server(server)
    assert counts == {40}
    assert len(worker_rss) == 2, worker_rss
    assert all(20e6 < value < 2e9 for value in worker_rss.values()), worker_rss
    pids = {
        record["process"]
        for line in output.splitlines()
        if line.startswith("{")
        for record in [json.loads(line)]
        if record.get("route") == "/api/info"
    }
    assert len(pids) == 2  # both workers answered some of them
