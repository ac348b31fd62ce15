from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, IdMixin, utcnow


class Worker(Base):
    """A running server process: the owner of in-flight generations and live claims. It beats
    every few seconds; a row whose beat stopped belongs to a process that died."""

    __tablename__ = "workers"

    # The process's instance id (`LiveState.instance`): what `generations.owner` and
    # `live_entries.owner` hold.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # hostname|boot id|pid namespace: on the same host (and namespace) a dead pid is certain.
    host: Mapped[str | None] = mapped_column(String(300))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]


class BlobDeletion(IdMixin, Base):
    """A blob (and its variants under `{key}/`) to delete, committed with the row deletion
    that orphans it: removed right after the commit, or retried with backoff while the store
    is unreachable (banatie.recovery.deletions)."""

    __tablename__ = "blob_deletions"

    key: Mapped[str] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
