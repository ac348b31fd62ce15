"""What an MCP conversation remembers between tool calls: its current flow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from banatie.db.base import Base, utcnow


class McpContext(Base):
    """One row per API key and client-chosen session tag ('' when the client sends none).

    Kept in the database rather than in memory, so a conversation continues on any replica
    and across restarts (streamable HTTP is served statelessly)."""

    __tablename__ = "mcp_contexts"

    api_key_id: Mapped[str] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    session: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    flow_id: Mapped[str | None] = mapped_column(
        ForeignKey("flows.id", ondelete="SET NULL"), nullable=True
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
