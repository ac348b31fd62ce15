"""image size: generations and live entries remember the imageSize asked of the model

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("image_size", sa.String(length=8), nullable=True))
    with op.batch_alter_table("live_entries") as batch:
        batch.add_column(sa.Column("image_size", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("live_entries") as batch:
        batch.drop_column("image_size")
    with op.batch_alter_table("generations") as batch:
        batch.drop_column("image_size")
