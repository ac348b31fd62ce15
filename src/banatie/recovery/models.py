from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base


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
