"""Webhook tests: the app's settings with a local receiver allowed (it listens on loopback,
which webhooks refuse unless BANATIE_FETCH_PRIVATE_URLS says otherwise), short retry delays,
and the dispatcher the app's lifespan would start."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from banatie.app import create_app
from banatie.settings import Settings
from tests.conftest import Keys, app_settings
from tests.support.webhook_receiver import Receiver, running_receiver

HOOKS = "/api/v1/webhooks"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(
        database_url,
        tmp_path,
        fetch_private_urls=True,
        webhook_retry_seconds="0.2,0.2,0.2",
        webhook_timeout_seconds=2.0,
        webhook_poll_seconds=0.05,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    application.state.runtime.webhooks.start()  # as `banatie serve`'s lifespan does
    yield application
    await application.state.runtime.close()


@pytest.fixture
async def guarded_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the default setting: webhooks only to public addresses."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=database_url)
    app: FastAPI = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.runtime.close()


async def project_key(client: httpx.AsyncClient) -> str:
    boot = await client.post("/api/bootstrap/initial-key", json={"organizationSlug": "acme"})
    master = boot.json()["data"]["key"]
    created = await client.post(
        "/api/admin/keys",
        headers={"X-API-Key": master},
        json={"type": "project", "projectSlug": "site"},
    )
    key: str = created.json()["data"]["key"]
    return key


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


async def register(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver, **body: object
) -> dict[str, object]:
    created = await client.post(HOOKS, headers=keys.headers(), json={"url": receiver.url(), **body})
    assert created.status_code == 201, created.text
    data: dict[str, object] = created.json()["data"]
    receiver.secret = str(data["secret"])
    return data
