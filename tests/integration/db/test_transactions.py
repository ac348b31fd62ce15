"""One unit of work per request: a route's writes commit together before the response is sent,
or not at all (with what they left outside the database undone), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy import exc as sa_errors
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from banatie.db import transactions
from banatie.db.transactions import TrackedSession
from banatie.images.models import Image
from banatie.runtime import Runtime
from tests.conftest import Keys
from tests.support.images import solid_png


def blob_files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_failed_commit_answers_an_error_and_leaves_nothing(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime: Runtime = app.state.runtime
    real_commit = AsyncSession.commit

    def note_image(session: Session, *_: Any) -> None:
        if any(isinstance(row, Image) for row in session.new):
            session.info["wrote an image"] = True

    async def failing_commit(self: AsyncSession) -> None:
        if self.info.get("wrote an image"):
            raise sa_errors.OperationalError("COMMIT", {}, Exception("disk I/O error"))
        await real_commit(self)

    event.listen(TrackedSession, "before_flush", note_image)
    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await client.post(
        "/api/v1/images/upload", headers=keys.headers(), files={"file": ("a.png", solid_png())}
    )
    monkeypatch.setattr(AsyncSession, "commit", real_commit)
    event.remove(TrackedSession, "before_flush", note_image)

    # Never a 201 for an image that was not stored.
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
    listed = await client.get("/api/v1/images", headers=keys.headers())
    assert listed.json()["data"] == []
    assert blob_files(runtime) == []  # the blob written before the rows went with them


async def test_effects_wait_for_the_outcome(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    seen: list[str] = []

    def note(what: str) -> transactions.Effect:
        async def effect() -> None:
            seen.append(what)

        return effect

    async with transactions.unit_of_work(runtime.sessionmaker) as session:
        transactions.after_commit(session, note("committed"))
        transactions.after_rollback(session, note("rolled back"))
        await session.execute(select(1))
        assert seen == []  # not before the transaction ends
    assert seen == ["committed"]

    seen.clear()
    with pytest.raises(RuntimeError):
        async with transactions.unit_of_work(runtime.sessionmaker) as session:
            transactions.after_commit(session, note("committed"))
            transactions.after_rollback(session, note("rolled back"))
            raise RuntimeError("refused")
    assert seen == ["rolled back"]

    seen.clear()
    async with transactions.unit_of_work(runtime.sessionmaker) as session:
        async with transactions.step(session, why="a test step"):
            transactions.after_commit(session, note("step committed"))
        assert seen == ["step committed"]  # at the step, not at the unit's end
        transactions.after_commit(session, note("unit committed"))
    assert seen == ["step committed", "unit committed"]


async def test_effects_need_a_tracked_session(app: FastAPI) -> None:
    runtime: Runtime = app.state.runtime
    plain: Any = AsyncSession(runtime.engine)
    try:
        with pytest.raises(TypeError):
            transactions.after_commit(plain, _nothing)
    finally:
        await plain.close()


async def _nothing() -> None:
    return None
