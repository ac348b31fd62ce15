"""The Gemini adapters against the wire-format server (the one-certificate trust store comes
from ../conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from banatie.providers.gemini.client import GeminiClient
from banatie.settings import Settings
from tests.support.gemini_server import (  # noqa: F401  (fixtures)
    GeminiServer,
    RecordingSleep,
    gemini_server,
    gemini_server_session,
    http_backend,
)

SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(gemini_server: GeminiServer, http_backend: str) -> SettingsFactory:  # noqa: F811
    def make(**overrides: Any) -> Settings:
        return Settings(_env_file=None, **gemini_server.settings_overrides(**overrides))

    return make


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def client(
    make_settings: SettingsFactory, sleeps: RecordingSleep
) -> AsyncIterator[GeminiClient]:
    gemini = GeminiClient(make_settings(), sleep=sleeps)
    yield gemini
    await gemini.aclose()


@pytest.fixture
async def make_client(
    make_settings: SettingsFactory, sleeps: RecordingSleep
) -> AsyncIterator[Callable[..., GeminiClient]]:
    """Clients with other settings; closed after the test."""
    made: list[GeminiClient] = []

    def make(**overrides: Any) -> GeminiClient:
        gemini = GeminiClient(make_settings(**overrides), sleep=sleeps)
        made.append(gemini)
        return gemini

    yield make
    for gemini in made:
        await gemini.aclose()
