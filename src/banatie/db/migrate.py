"""Run Alembic migrations programmatically (used by `banatie migrate`, `serve` and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from banatie.settings import to_sync_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is ConfigParser-based: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", to_sync_url(database_url).replace("%", "%%"))
    return config


class DatabaseNotReady(Exception):
    """The database an admin command was pointed at is missing, unreachable or not migrated."""


def sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def upgrade(database_url: str, revision: str = "head") -> None:
    path = sqlite_path(database_url)
    if path is not None:  # the SQLite file's folder must exist before the first connection
        path.parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def error_reason(exc: SQLAlchemyError) -> str:
    """The driver's first line, without SQLAlchemy's statement dump and links."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def check_ready(database_url: str) -> None:
    """Refuse a database the server never made: connecting to a missing SQLite file would
    create an empty one, and a key written there is one the server never sees."""
    path = sqlite_path(database_url)
    if path is not None and not path.is_file():
        raise DatabaseNotReady(f"no Banatie database at {path}")
    engine = create_engine(to_sync_url(database_url))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise DatabaseNotReady(f"cannot open the database: {error_reason(exc)}") from exc
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    if current is None:
        raise DatabaseNotReady("the database has no Banatie tables")
    if current != head:
        raise DatabaseNotReady(
            f"the database schema is at revision {current}, this version of banatie needs "
            f"{head}: run `banatie migrate`"
        )
