"""mcp: the current flow of an MCP conversation, per API key and session tag

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mcp_contexts",
        sa.Column("api_key_id", sa.String(length=36), nullable=False),
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("flow_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_mcp_contexts_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["flows.id"],
            name=op.f("fk_mcp_contexts_flow_id_flows"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "session", name=op.f("pk_mcp_contexts")),
    )


def downgrade() -> None:
    op.drop_table("mcp_contexts")
