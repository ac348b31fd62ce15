"""`banatie doctor`: which adapters the settings select, and whether each one answers.

The runtime is built exactly as `serve` builds it (`runtime.build_runtime`), so what is reported
is what the server would use. Every check has its own time limit and never raises: a failure is a
row with status `fail` (and a non-zero exit code in the CLI), a `warn` is worth knowing but does
not stop `serve` (e.g. migrations that `serve` would apply).

Checks are read-only except the blob store round trip, which writes, reads back and deletes one
small blob under `_banatie/doctor/` (and, like `serve`, the local blob folder is created if
missing). The database is never created nor migrated: a missing SQLite file is a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url

from banatie.runtime import Runtime, build_runtime
from banatie.settings import Settings

if TYPE_CHECKING:
    from banatie.providers.gemini.client import GeminiClient

Status = Literal["ok", "warn", "fail"]

DOCTOR_PREFIX = "_banatie/doctor"
_SECRET_OPTIONS = frozenset({"secret_access_key", "session_token", "access_key_id", "password"})


@dataclass(frozen=True)
class Check:
    component: str
    adapter: str
    detail: str
    status: Status
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class CheckFailed(Exception):
    """A check's own verdict, with a message meant for the operator."""


async def diagnose(settings: Settings, *, check_seconds: float = 10.0) -> list[Check]:
    try:
        runtime = build_runtime(settings)
    except Exception as exc:
        return [Check("configuration", "-", "settings", "fail", _error(exc))]
    try:
        return await _diagnose(runtime, check_seconds)
    finally:
        with contextlib.suppress(Exception):  # a report, even if a client closes badly
            await runtime.close()


async def _diagnose(rt: Runtime, check_seconds: float) -> list[Check]:
    settings = rt.settings
    checks = [
        await _database(rt, check_seconds),
        await _run(
            "storage",
            rt.blobs.name,
            redact_url(settings.resolved_storage_url),
            lambda: _blob_round_trip(rt),
            check_seconds,
        ),
        await _run(
            "rate limits",
            rt.rate_limiter.backend,
            redact_url(settings.redis_url) if settings.redis_url else "in-process",
            lambda: _rate_limiter(rt),
            check_seconds,
        ),
    ]
    gemini = rt.providers.gemini
    models: dict[str, tuple[str, Status, str]] = {}  # one resolution per kind of model
    for component, port, kind in (
        ("synthesizer", rt.synthesizer, "image"),
        ("enhancer", rt.enhancer, "text"),
        ("analyzer", rt.analyzer, "text"),
    ):
        if gemini is None or port.name != "gemini":
            checks.append(Check(component, port.name, "embedded", "ok", "no network needed"))
            continue
        if kind not in models:
            models[kind] = await _model(
                gemini, "image" if kind == "image" else "text", check_seconds
            )
        model, status, message = models[kind]
        detail = f"{model} at {settings.gemini_base_url or 'Google'}"
        if component == "analyzer":
            detail += f" (local fallback after {settings.gemini_analyzer_timeout_seconds:g}s)"
        checks.append(Check(component, port.name, detail, status, message))
    return checks


async def _model(
    gemini: GeminiClient, kind: Literal["image", "text"], check_seconds: float
) -> tuple[str, Status, str]:
    """(model, status, message): the resolved model and what it offers, or what was wanted
    (the pinned id, else the newest listed Flash model) and why it cannot be had."""
    wanted = gemini.models.pinned(kind) or f"newest listed Flash {kind} model"
    try:
        async with asyncio.timeout(check_seconds):
            if kind == "image":
                image = await gemini.models.image()
                caps = image.capabilities
                offers = f"{len(caps.aspect_ratios)} aspect ratios, imageSize "
                return (
                    f"{image.id} ({image.how})",
                    "ok",
                    f"listed; {offers}{'/'.join(caps.image_sizes)}",
                )
            text = await gemini.models.text()
            thinking = text.capabilities.thinking
            return f"{text.id} ({text.how})", "ok", f"listed; thinking {thinking}"
    except TimeoutError:
        return wanted, "fail", f"no answer within {check_seconds:g}s"
    except Exception as exc:
        return wanted, "fail", _error(exc)


async def _run(
    component: str,
    adapter: str,
    detail: str,
    probe: Callable[[], Awaitable[str]],
    check_seconds: float,
) -> Check:
    try:
        async with asyncio.timeout(check_seconds):
            message = await probe()
    except TimeoutError:
        return Check(component, adapter, detail, "fail", f"no answer within {check_seconds:g}s")
    except Exception as exc:
        return Check(component, adapter, detail, "fail", _error(exc))
    return Check(component, adapter, detail, "ok", message)


async def _database(rt: Runtime, check_seconds: float) -> Check:
    url = rt.settings.resolved_database_url
    adapter = "postgresql" if rt.settings.is_postgres else "sqlite"
    parsed = make_url(url)
    detail = (
        parsed.set(drivername="postgresql").render_as_string(hide_password=True)
        if adapter == "postgresql"
        else str(parsed.database)
    )
    if adapter == "sqlite" and _sqlite_file_missing(url):
        return Check(
            "database",
            adapter,
            detail,
            "warn",
            "no database file yet: `banatie migrate` or `banatie serve` creates it",
        )
    check = await _run("database", adapter, detail, lambda: _select_one(rt), check_seconds)
    if check.status != "ok":
        return check
    try:
        current, head = await asyncio.wait_for(_schema_revisions(rt), check_seconds)
    except Exception as exc:
        return Check("database", adapter, detail, "warn", f"answers; schema unknown: {_error(exc)}")
    if current == head:
        return Check("database", adapter, detail, "ok", f"answers; schema at {head} (latest)")
    return Check(
        "database",
        adapter,
        detail,
        "warn",
        (f"answers; schema at {current}" if current else "answers; no schema yet")
        + f", latest is {head}: `banatie migrate` (or `serve`) applies it",
    )


def _sqlite_file_missing(url: str) -> bool:
    path = make_url(url).database
    return bool(path) and path != ":memory:" and not Path(str(path)).exists()


async def _select_one(rt: Runtime) -> str:
    async with rt.engine.connect() as connection:
        value = (await connection.execute(text("SELECT 1"))).scalar()
    if value != 1:
        raise CheckFailed(f"SELECT 1 returned {value!r}")
    return "answers"


async def _schema_revisions(rt: Runtime) -> tuple[str | None, str | None]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from banatie.db.migrate import alembic_config

    head = ScriptDirectory.from_config(
        alembic_config(rt.settings.resolved_database_url)
    ).get_current_head()
    async with rt.engine.connect() as connection:
        current = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
    return current, head


async def _blob_round_trip(rt: Runtime) -> str:
    key = f"{DOCTOR_PREFIX}/{secrets.token_hex(8)}"
    payload = secrets.token_bytes(32)
    await rt.blobs.put(key, payload, "application/octet-stream")
    try:
        read = await rt.blobs.get(key)
        if read != payload:
            raise CheckFailed(f"read back {len(read)} bytes that differ from the 32 written")
    finally:
        await rt.blobs.delete(key)
    if await rt.blobs.head(key) is not None:
        raise CheckFailed("the test blob is still there after delete")
    return "write, read back and delete work"


async def _rate_limiter(rt: Runtime) -> str:
    if rt.rate_limiter.backend == "memory":
        return "ready; counted per process (BANATIE_REDIS_URL shares them across replicas)"
    if not await rt.rate_limiter.storage.check():
        raise CheckFailed("Redis does not answer PING")
    return "Redis answers"


def redact_url(url: str) -> str:
    """A URL safe to print: no password, no secret query options."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = urlencode(
        [(k, "***" if k in _SECRET_OPTIONS else v) for k, v in parse_qsl(parts.query)],
        safe="/:*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _error(exc: BaseException) -> str:
    own = getattr(exc, "message", None)  # ProviderError and the like: already worded for people
    message = " ".join(str(own or exc).split())
    if own or isinstance(exc, CheckFailed):
        return message[:300]
    return f"{type(exc).__name__}: {message}"[:300] if message else type(exc).__name__
