"""`banatie doctor` through typer's CliRunner: adapters reported, checks run, exit codes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from banatie.cli import app
from banatie.db import migrate
from banatie.doctor import redact_url
from banatie.storage.local import LocalBlobStore
from tests.support.gemini_server import (  # noqa: F401  (fixtures)
    GeminiServer,
    gemini_server,
    gemini_server_session,
    http_backend,
)

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("http_backend")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Only what a test sets: no BANATIE_* from the caller's shell, no .env file."""
    for name in list(os.environ):
        if name.startswith("BANATIE_") or name == "GEMINI_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data_dir = tmp_path / "var"
    monkeypatch.setenv("BANATIE_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("doctor") / "banatie.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def database(migrated_sqlite: Path, clean_environment: Path) -> Path:
    """A migrated SQLite file in the data dir."""
    clean_environment.mkdir(parents=True, exist_ok=True)
    path = clean_environment / "banatie.db"
    shutil.copy(migrated_sqlite, path)
    return path


def doctor(*args: str) -> Result:
    return runner.invoke(app, ["doctor", *args])


def checks_of(result: Result) -> dict[str, dict[str, Any]]:
    payload = json.loads(result.stdout)
    assert payload["ok"] is (result.exit_code == 0)
    return {check["component"]: check for check in payload["checks"]}


def use_gemini(monkeypatch: pytest.MonkeyPatch, server: GeminiServer, **extra: str) -> None:
    monkeypatch.setenv("BANATIE_GEMINI_API_KEY", extra.pop("key", server.api_key))
    monkeypatch.setenv("BANATIE_GEMINI_BASE_URL", extra.pop("base_url", server.base_url))
    for name, value in extra.items():
        monkeypatch.setenv(f"BANATIE_{name.upper()}", value)


def test_embedded_defaults_all_answer(database: Path, clean_environment: Path) -> None:
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    checks = checks_of(result)
    assert list(checks) == [
        "database",
        "storage",
        "rate limits",
        "synthesizer",
        "enhancer",
        "analyzer",
    ]
    assert {name: c["adapter"] for name, c in checks.items()} == {
        "database": "sqlite",
        "storage": "local",
        "rate limits": "memory",
        "synthesizer": "local",
        "enhancer": "rules",
        "analyzer": "local",
    }
    assert all(c["status"] == "ok" for c in checks.values()), checks
    assert checks["database"]["message"].startswith("answers; schema at")
    assert checks["database"]["detail"] == str(database)
    assert checks["storage"]["message"] == "write, read back and delete work"
    # The round trip cleans up after itself.
    blobs = clean_environment / "blobs"
    assert not [p for p in blobs.rglob("*") if p.is_file()]


def test_rich_table_output(database: Path) -> None:
    result = doctor()
    assert result.exit_code == 0, result.output
    for text in ("banatie doctor", "database", "sqlite", "synthesizer", "rules", "all good"):
        assert text in result.output


def test_missing_database_file_is_a_warning(clean_environment: Path) -> None:
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    database = checks_of(result)["database"]
    assert database["status"] == "warn"
    assert "banatie migrate" in database["message"]
    assert not (clean_environment / "banatie.db").exists()  # the doctor creates nothing
    assert "1 warning(s)" in doctor().output


def test_pending_migrations_are_a_warning(clean_environment: Path) -> None:
    migrate.upgrade(f"sqlite+aiosqlite:///{clean_environment / 'banatie.db'}", "0001")
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    database = checks_of(result)["database"]
    assert database["status"] == "warn"
    assert database["message"].startswith("answers; schema at 0001, latest is")


def test_gemini_answers(
    database: Path,
    gemini_server: GeminiServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_gemini(monkeypatch, gemini_server)
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    checks = checks_of(result)
    for name, model, offers in (
        (
            "synthesizer",
            "gemini-3.1-flash-image-preview",
            "14 aspect ratios, imageSize 512/1K/2K/4K",
        ),
        ("enhancer", "gemini-3-flash-preview", "thinking level"),
        ("analyzer", "gemini-3-flash-preview", "thinking level"),
    ):
        assert checks[name]["adapter"] == "gemini"
        assert checks[name]["status"] == "ok"
        assert checks[name]["detail"].startswith(f"{model} (preferred) at {gemini_server.base_url}")
        assert checks[name]["message"] == f"listed; {offers}"
    assert "local fallback after 15s" in checks["analyzer"]["detail"]
    # One listing serves both models, with the key; nothing is generated.
    requests = gemini_server.requests
    assert [(r.method, r.path) for r in requests] == [("GET", "/v1beta/models")]
    assert {r.api_key for r in requests} == {gemini_server.api_key}
    assert gemini_server.api_key not in result.stdout


def test_gemini_models_never_seen_before_are_named(
    database: Path,
    gemini_server: GeminiServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gemini_server.set_models("gemini-7-flash", "gemini-7-flash-image", "gemini-6-flash-image")
    use_gemini(monkeypatch, gemini_server)
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    checks = checks_of(result)
    assert checks["synthesizer"]["detail"].startswith("gemini-7-flash-image (newest listed) at")
    assert checks["enhancer"]["detail"].startswith("gemini-7-flash (newest listed) at")
    table = doctor()
    assert "gemini-7-flash-image" in table.output


def test_a_pinned_model_that_is_not_listed_fails(
    database: Path,
    gemini_server: GeminiServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_gemini(monkeypatch, gemini_server, gemini_image_model="gemini-2.5-flash-image-preview")
    result = doctor("--json")
    assert result.exit_code == 1
    checks = checks_of(result)
    synthesizer = checks["synthesizer"]
    assert synthesizer["status"] == "fail"
    assert synthesizer["detail"].startswith("gemini-2.5-flash-image-preview at")
    assert "'gemini-2.5-flash-image-preview' (BANATIE_GEMINI_IMAGE_MODEL)" in synthesizer["message"]
    assert "gemini-3.1-flash-image-preview" in synthesizer["message"]
    assert checks["enhancer"]["status"] == "ok"  # the text model is fine


def test_gemini_rejects_the_key(
    database: Path,
    gemini_server: GeminiServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_gemini(monkeypatch, gemini_server, key="AIza-not-the-right-one")
    result = doctor("--json")
    assert result.exit_code == 1
    checks = checks_of(result)
    for name in ("synthesizer", "enhancer", "analyzer"):
        assert checks[name]["status"] == "fail"
        assert "API key not valid" in checks[name]["message"]
    assert checks["database"]["status"] == "ok"
    assert "AIza-not-the-right-one" not in result.stdout
    table = doctor()
    assert table.exit_code == 1
    assert "3 check(s) failed: synthesizer, enhancer, analyzer" in table.output


def test_gemini_unreachable(
    database: Path,
    gemini_server: GeminiServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_gemini(monkeypatch, gemini_server, base_url="http://127.0.0.1:9")
    result = doctor("--json", "--timeout", "3")
    assert result.exit_code == 1
    synthesizer = checks_of(result)["synthesizer"]
    assert synthesizer["status"] == "fail"
    assert "unreachable" in synthesizer["message"] or "no answer" in synthesizer["message"]


def test_database_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_DATABASE_URL", "postgresql://app:hunter2@127.0.0.1:9/banatie")
    result = doctor("--json", "--timeout", "3")
    assert result.exit_code == 1
    database = checks_of(result)["database"]
    assert (database["adapter"], database["status"]) == ("postgresql", "fail")
    assert database["detail"] == "postgresql://app:***@127.0.0.1:9/banatie"
    assert "hunter2" not in result.stdout


@pytest.mark.postgres
def test_postgres_answers(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_DATABASE_URL", postgres_url)
    result = doctor("--json")
    assert result.exit_code == 0, result.output
    database = checks_of(result)["database"]
    assert (database["adapter"], database["status"]) == ("postgresql", "ok")
    assert "(latest)" in database["message"]


def test_storage_failure_fails(database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def corrupt(self: LocalBlobStore, key: str) -> bytes:
        return b"something else"

    monkeypatch.setattr(LocalBlobStore, "get", corrupt)
    result = doctor("--json")
    assert result.exit_code == 1
    storage = checks_of(result)["storage"]
    assert storage["status"] == "fail"
    assert "differ" in storage["message"]


def test_bad_configuration_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_STORAGE_URL", "ftp://example.com/blobs")
    result = doctor("--json")
    assert result.exit_code == 1
    (check,) = checks_of(result).values()
    assert check["component"] == "configuration"
    assert "unsupported storage URL scheme" in check["message"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        (
            "s3://media?endpoint=http://minio:9000&access_key_id=AK&secret_access_key=SK",
            "s3://media?endpoint=http://minio:9000&access_key_id=***&secret_access_key=***",
        ),
        ("file:///srv/blobs", "file:///srv/blobs"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
