"""Replicas starting at once on an empty PostgreSQL database: every one migrates without
error and exactly one first-run key is made (advisory locks, banatie.db.locks)."""

from __future__ import annotations

import asyncio
import multiprocessing
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import psycopg
import pytest

from banatie.accounts.first_run import ensure_first_run
from banatie.db import migrate
from banatie.settings import Settings, to_async_url

pytestmark = pytest.mark.postgres


def _migrate_after(barrier: BarrierType, database_url: str) -> None:
    barrier.wait()
    migrate.upgrade(database_url)


def test_concurrent_migrations_all_succeed(fresh_database: str) -> None:
    url = to_async_url(fresh_database)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(4)
    processes = [context.Process(target=_migrate_after, args=(barrier, url)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    with psycopg.connect(fresh_database) as db:
        versions = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert len(versions) == 1


async def test_concurrent_first_runs_make_one_key(fresh_database: str, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url=fresh_database,
        data_dir=tmp_path,
    )
    migrate.upgrade(settings.resolved_database_url)
    results = await asyncio.gather(*(ensure_first_run(settings) for _ in range(4)))
    made = [result for result in results if result is not None]
    assert len(made) == 1 and made[0].key.startswith("bnt_")
    with psycopg.connect(fresh_database) as db:
        assert db.execute("SELECT count(*) FROM api_keys").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM organizations").fetchone() == (1,)
