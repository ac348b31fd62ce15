"""bootstrap happens once per installation: a one-row marker

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bootstrap",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_bootstrap_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bootstrap")),
    )
    # An install that ever had a master key (revoked ones included) is already bootstrapped.
    op.execute(
        "INSERT INTO bootstrap (id, completed_at) "
        "SELECT 1, MIN(created_at) FROM api_keys WHERE type = 'master' HAVING COUNT(*) > 0"
    )


def downgrade() -> None:
    op.drop_table("bootstrap")
