"""Issue 15's "Done when", for the job queue: two `banatie serve` processes (jobs off) and two
`banatie worker` processes on PostgreSQL, Redis and the S3 test server, the image model a
local server speaking Gemini's wire format (so a job can be held at the model).

- an async generation whose worker is killed with SIGKILL mid-job is finished by the other
  worker, once, and charged once;
- a batch of 20 completes, its progress visible from the other replica on the way;
- /metrics parses with Prometheus' text parser and moves when work happens;
- the batch's `batch.completed` webhook arrives signed, retried after the receiver failed twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from banatie.accounts.first_run import ensure_first_run
from banatie.db import migrate
from banatie.settings import Settings
from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.support.gemini_server import GeminiServer, Slow, running_gemini_server
from tests.support.s3_server import s3_endpoint, s3_storage_url, unique_bucket_name  # noqa: F401
from tests.support.webhook_receiver import running_receiver

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@dataclass
class Topology:
    servers: list[Server]
    workers: list[subprocess.Popen[str]]
    key: str
    database: str
    gemini: GeminiServer

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[str]:
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "banatie.cli", "worker"],
            env=env,
            cwd=log_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )


def registered_pids(database: str) -> set[int]:
    with psycopg.connect(database) as db:
        return {row[0] for row in db.execute("SELECT pid FROM workers").fetchall()}


@pytest.fixture
def topology(
    tmp_path: Path,
    fresh_database: str,
    s3_endpoint: str,  # noqa: F811
) -> Iterator[Topology]:
    with running_gemini_server(api_key="AIza-jobs") as gemini:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")},
            "BANATIE_DATABASE_URL": fresh_database,
            "BANATIE_STORAGE_URL": s3_storage_url(s3_endpoint, unique_bucket_name("jobs")),
            "BANATIE_REDIS_URL": "redis://127.0.0.1:6379/0",
            "BANATIE_GEMINI_API_KEY": "AIza-jobs",
            "BANATIE_GEMINI_BASE_URL": gemini.base_url,
            "BANATIE_GEMINI_TIMEOUT_SECONDS": "300",
            "BANATIE_FREE_RATE_LIMIT": "1000/minute",
            "BANATIE_WORK_STALE_SECONDS": "3",
            "BANATIE_JOBS_IN_SERVE": "false",
            "BANATIE_SHUTDOWN_TIMEOUT_SECONDS": "5",
            # Webhooks to the test's receiver on loopback, retried quickly.
            "BANATIE_FETCH_PRIVATE_URLS": "true",
            "BANATIE_WEBHOOK_RETRY_SECONDS": "0.5,0.5,0.5",
            "BANATIE_WEBHOOK_POLL_SECONDS": "0.2",
        }
        settings = Settings(_env_file=None, database_url=fresh_database, data_dir=tmp_path)
        migrate.upgrade(settings.resolved_database_url)
        first = asyncio.run(ensure_first_run(settings))
        assert first is not None
        servers: list[Server] = []
        workers: list[subprocess.Popen[str]] = []
        try:
            with ThreadPoolExecutor(2) as pool:
                starting = []
                for name in ("a", "b"):
                    (tmp_path / name / "var").mkdir(parents=True)
                    server_env = {k: v for k, v in env.items() if k.startswith("BANATIE_")}
                    starting.append(
                        pool.submit(start_server, tmp_path / name / "var", free_port(), server_env)
                    )
                for future in starting:
                    if future.exception() is None:
                        servers.append(future.result())
                for future in starting:
                    future.result()
            for name in ("w1", "w2"):
                workers.append(start_worker(env, tmp_path / f"{name}.log"))
            pids = {worker.pid for worker in workers}
            deadline = time.monotonic() + 120
            while not pids <= registered_pids(fresh_database):
                for worker in workers:
                    assert worker.poll() is None, (tmp_path / "w1.log").read_text()
                assert time.monotonic() < deadline, "the workers did not register"
                time.sleep(0.2)
            yield Topology(servers, workers, first.key, fresh_database, gemini)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            for server in servers:
                stop_server(server)


def metrics(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{server.base_url}/metrics", timeout=30).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(value for (sample, _), value in samples.items() if sample == name)


def one(database: str, sql: str, *params: Any) -> Any:
    with psycopg.connect(database) as db:
        row = db.execute(sql, params).fetchone()
        return row[0] if row else None


def test_async_generation_survives_a_worker_killed_with_sigkill(topology: Topology) -> None:
    a, b = topology.servers
    before = metrics(a)
    # The first image request hangs at the model: the worker that takes the job holds it.
    topology.gemini.queue(Slow(seconds=120), kind="image")
    accepted = httpx.post(
        f"{a.base_url}/api/v1/generations",
        headers={**topology.headers(), "Prefer": "respond-async"},
        json={"prompt": "a lighthouse in a storm", "autoEnhance": False, "alias": "@storm"},
        timeout=30,
    )
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["data"]["id"]
    deadline = time.monotonic() + 60
    while topology.gemini.pending():  # the worker reached the model and waits there
        assert time.monotonic() < deadline, "no worker took the job"
        time.sleep(0.05)
    owner = one(topology.database, "SELECT owner FROM generations WHERE id = %s", generation_id)
    pid = one(topology.database, "SELECT pid FROM workers WHERE id = %s", owner)
    holder = next(worker for worker in topology.workers if worker.pid == pid)
    assert one(
        topology.database, "SELECT status FROM generations WHERE id = %s", generation_id
    ) == ("processing")
    holder.kill()  # SIGKILL: nothing of it runs any more
    holder.wait()

    deadline = time.monotonic() + 60
    while True:
        got = httpx.get(
            f"{b.base_url}/api/v1/generations/{generation_id}", headers=topology.headers()
        ).json()["data"]
        if got["status"] in ("success", "failed"):
            break
        assert time.monotonic() < deadline, f"still {got['status']} after the kill"
        time.sleep(0.2)
    assert got["status"] == "success", got
    assert got["outputImage"]["alias"] == "@storm"
    survivor = next(worker for worker in topology.workers if worker is not holder)
    new_owner = one(topology.database, "SELECT owner FROM generations WHERE id = %s", generation_id)
    assert one(topology.database, "SELECT pid FROM workers WHERE id = %s", new_owner) == (
        survivor.pid
    )
    # Completed once, charged once.
    assert (
        one(
            topology.database, "SELECT count(*) FROM images WHERE generation_id = %s", generation_id
        )
        == 1
    )
    with psycopg.connect(topology.database) as db:
        charges = db.execute(
            "SELECT status FROM usage_records WHERE generation_id = %s", (generation_id,)
        ).fetchall()
    assert charges == [("charged",)]
    image = httpx.get(got["outputImage"]["storageUrl"], timeout=30)
    assert image.status_code == 200 and image.content

    after = metrics(a)
    assert total(after, "banatie_http_requests_total") > total(
        before, "banatie_http_requests_total"
    )
    assert total(after, "banatie_jobs_queued") == 0


def test_a_batch_of_20_completes_with_progress(topology: Topology) -> None:
    a, b = topology.servers
    items = [{"prompt": f"a flat icon number {n}", "alias": f"@icon-{n}"} for n in range(20)]
    accepted = httpx.post(
        f"{a.base_url}/api/v1/generations/batch",
        headers=topology.headers(),
        json={"items": items, "aspectRatio": "1:1", "autoEnhance": False},
        timeout=60,
    )
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["location"]
    queued = metrics(b)
    assert total(queued, "banatie_jobs_queued") > 0
    assert total(queued, "banatie_jobs_queued_oldest_age_seconds") >= 0

    progress: list[int] = []
    deadline = time.monotonic() + 180
    while True:
        batch = httpx.get(f"{b.base_url}{location}", headers=topology.headers(), timeout=30).json()
        data = batch["data"]
        progress.append(data["counts"]["success"])
        if data["status"] == "completed" and data["completedAt"]:
            break
        assert time.monotonic() < deadline, data["counts"]
        time.sleep(0.1)
    assert data["counts"] == {"pending": 0, "processing": 0, "success": 20, "failed": 0}
    assert data["completedAt"] is not None
    assert [item["alias"] for item in data["items"]] == [f"@icon-{n}" for n in range(20)]
    assert any(0 < done < 20 for done in progress), progress  # seen part-way
    assert progress == sorted(progress)
    assert (
        one(topology.database, "SELECT count(*) FROM usage_records WHERE status = 'charged'") == 20
    )
    assert total(metrics(a), "banatie_jobs_queued") == 0


def test_a_batch_webhook_arrives_signed_and_is_retried(topology: Topology) -> None:
    a, b = topology.servers
    secret = httpx.get(f"{a.base_url}/api/v1/webhooks/signing-secret", headers=topology.headers())
    with running_receiver() as receiver:
        receiver.secret = secret.json()["data"]["secret"]
        receiver.fail_next(2)
        accepted = httpx.post(
            f"{b.base_url}/api/v1/generations/batch",
            headers=topology.headers(),
            json={
                "items": [{"prompt": f"a badge {n}"} for n in range(3)],
                "autoEnhance": False,
                "webhookUrl": receiver.url("/batch-done"),
            },
            timeout=60,
        )
        assert accepted.status_code == 202, accepted.text
        calls = receiver.wait_for(lambda calls: any(c.answered == 204 for c in calls), 120)
    assert [call.answered for call in calls] == [500, 500, 204]
    assert all(call.verified for call in calls)  # Standard Webhooks signature, every attempt
    assert len({call.message_id for call in calls}) == 1
    payload = calls[-1].payload
    assert payload["type"] == "batch.completed"
    assert payload["data"]["id"] == accepted.json()["data"]["id"]
    assert payload["data"]["counts"]["success"] == 3
