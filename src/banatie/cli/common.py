"""What every CLI command shares: the consoles, the server's settings, one-line failures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Mapping
from datetime import datetime
from typing import Any, TypeVar

import pydantic
import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from banatie.db import migrate as migrations
from banatie.errors import ApiError
from banatie.settings import Settings

T = TypeVar("T")

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # unwrapped: a path in a message stays whole


def load_settings() -> Settings:
    """The server's configuration, as the server reads it (environment, then ./.env)."""
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            name = "BANATIE_" + "_".join(str(part) for part in error["loc"]).upper()
            errors.print(f"[red]error:[/] {name}: {error['msg']}", highlight=False)
        raise typer.Exit(1) from exc


def where_hint(settings: Settings) -> str:
    if settings.is_postgres:
        return "The database is BANATIE_DATABASE_URL (from the environment or ./.env)."
    return (
        f"The data directory is {settings.data_dir.resolve()}: point to the server's with "
        "--data-dir or BANATIE_DATA_DIR, or create it with `banatie serve` (or `banatie migrate`)."
    )


def fail(message: str) -> None:
    errors.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def run(coroutine: Coroutine[Any, Any, T], flags: Mapping[str, str] | None = None) -> T:
    """Run a CLI operation; a refusal is a one-line message and exit code 1, not a traceback.
    `flags` maps the API's field names in a message to the command's options."""
    try:
        return asyncio.run(coroutine)
    except ApiError as exc:
        message = exc.message
        if flags:
            pattern = r"\b(" + "|".join(map(re.escape, flags)) + r")\b"
            message = re.sub(pattern, lambda match: flags[match.group(1)], message)
        fail(message)
    except migrations.DatabaseNotReady as exc:  # admin commands never create a database
        fail(f"{exc}.\n{where_hint(load_settings())}")
    except SQLAlchemyError as exc:
        fail(f"the database refused: {migrations.error_reason(exc)}")
    raise AssertionError("unreachable")  # pragma: no cover - _fail raises


def date(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.strftime(pattern)
