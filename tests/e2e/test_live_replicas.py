"""Two real `banatie serve` processes on one PostgreSQL database and one blob store: 100
concurrent identical live misses, split between them, make exactly one generation."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from banatie.accounts.first_run import ensure_first_run
from banatie.db import migrate
from banatie.settings import Settings
from tests.e2e.conftest import Server, free_port, start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_two_serve_processes_share_one_generation(tmp_path: Path, fresh_database: str) -> None:
    env = {
        "BANATIE_DATABASE_URL": fresh_database,
        "BANATIE_STORAGE_URL": f"file://{tmp_path / 'shared-blobs'}",
        "BANATIE_LIVE_POLL_SECONDS": "0.05",
    }
    # Migrate and make the first-run project here, so both servers can start side by side.
    settings = Settings(
        _env_file=None,
        database_url=fresh_database,
        data_dir=tmp_path,
    )
    migrate.upgrade(settings.resolved_database_url)
    asyncio.run(ensure_first_run(settings))
    servers: list[Server] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        with ThreadPoolExecutor(2) as pool:
            starting = [
                pool.submit(start_server, tmp_path / name / "var", free_port(), env)
                for name in ("a", "b")
            ]
            for future in starting:
                if future.exception() is None:
                    servers.append(future.result())
            for future in starting:
                future.result()  # re-raise a failed start (the started one is stopped below)
        query = "prompt=a+lighthouse+seen+by+two+replicas&aspectRatio=16:9"
        urls = [f"{server.base_url}/cdn/default/main/live/replicas?{query}" for server in servers]

        async def burst() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
            async with httpx.AsyncClient(timeout=60, limits=limits) as http:
                return await asyncio.gather(*(http.get(urls[i % 2]) for i in range(100)))

        responses = asyncio.run(burst())
        assert {r.status_code for r in responses} == {200}, {r.text[:200] for r in responses}
        assert len({r.headers["x-image-id"] for r in responses}) == 1
        assert len({r.content for r in responses}) == 1
        assert {r.headers["x-cache-status"] for r in responses} <= {"MISS", "HIT"}

        with psycopg.connect(fresh_database) as db:
            generations = db.execute("SELECT count(*) FROM generations").fetchone()
            entries = db.execute("SELECT status FROM live_entries").fetchall()
        assert generations == (1,)
        assert entries == [("ready",)]

        # Both replicas now answer from the cache.
        for url in urls:
            hit = httpx.get(url, timeout=10)
            assert hit.status_code == 200 and hit.headers["x-cache-status"] == "HIT"
            assert hit.content == responses[0].content
    finally:
        for server in servers:
            output = stop_server(server)
            if os.environ.get("BANATIE_TEST_VERBOSE"):
                print(output)
