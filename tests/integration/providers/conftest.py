"""The app wired to Gemini, with the wire-format server standing in for Google.

`settings` here is the shared one (SQLite or PostgreSQL, local blobs) plus the server's key and
base URL, fast retries (10 ms base, 2 retries) and short time limits. A test can change them with
`@pytest.mark.parametrize("gemini", [{"gemini_timeout_seconds": 1.0}], indirect=True)`.
`embedded_client` is a second app on the same database with the embedded adapters, for
comparing response shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest

from banatie.app import create_app
from banatie.settings import Settings
from tests.support.gemini_server import (  # noqa: F401  (fixtures)
    GeminiServer,
    gemini_server,
    gemini_server_session,
    http_backend,
)


@pytest.fixture(scope="session")
def one_ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """google-genai builds SSL contexts from the whole CA bundle for every client (~80 ms); the
    server is plain HTTP on 127.0.0.1, so a one-certificate bundle keeps app start-up cheap."""
    bundle = Path(certifi.where()).read_text()
    end = "-----END CERTIFICATE-----\n"
    first = bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)]
    path = tmp_path_factory.mktemp("tls") / "one-ca.pem"
    path.write_text(first)
    return path


@pytest.fixture(autouse=True)
def small_trust_store(one_ca_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SSL_CERT_FILE", str(one_ca_bundle))
    yield


@pytest.fixture
def gemini(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Overrides of the Gemini settings for one test (indirect parametrization)."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    gemini_server: GeminiServer,  # noqa: F811
    gemini: dict[str, Any],
    http_backend: str,  # noqa: F811
) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        database_url=database_url,
        public_base_url="http://testserver",
        free_rate_limit="1000/minute",
        **gemini_server.settings_overrides(
            **{"gemini_timeout_seconds": 30.0, "gemini_analyzer_timeout_seconds": 20.0, **gemini}
        ),
    )


@pytest.fixture
async def embedded_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The same database (so the same keys) behind an app with the embedded adapters."""
    app = create_app(
        Settings(
            _env_file=None,
            data_dir=tmp_path / "var",  # the same blobs too, like a second replica
            database_url=database_url,
            public_base_url="http://testserver",
            free_rate_limit="1000/minute",
            gemini_api_key=None,
        )
    )
    assert app.state.runtime.synthesizer.name == "local"
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await app.state.runtime.close()
