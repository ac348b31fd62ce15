from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, IdMixin


class IdempotencyKey(IdMixin, Base):
    """A POST made with an `Idempotency-Key`: while it runs, the key is taken; once answered,
    the answer is kept (for a day) and given again to a retry with the same key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    # SHA-256 of the API key that sent it: keys are per caller, never shared across keys.
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path, query and body: the same key for another request is an error.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # running | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)
    # When the running request took the key (a process that died leaves it running).
    locked_at: Mapped[datetime]
