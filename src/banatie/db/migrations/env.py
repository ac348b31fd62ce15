"""Alembic environment: the URL comes from the caller (banatie.db.migrate) or BANATIE_* settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from banatie.db import locks
from banatie.db.models import Base
from banatie.settings import Settings, to_sync_url

config = context.config
url = config.get_main_option("sqlalchemy.url") or to_sync_url(Settings().resolved_database_url)


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            # SQLite cannot ALTER most things: batch mode rebuilds tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            # Replicas starting at once migrate one after the other: the others then find the
            # schema at head. PostgreSQL's DDL is transactional, so the lock spans the upgrade.
            locks.hold(connection, locks.MIGRATIONS)
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
