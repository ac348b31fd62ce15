"""delivery variants and purge outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:58:37.746459
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cdn_purges",
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdn_purges")),
    )
    with op.batch_alter_table("cdn_purges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cdn_purges_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "image_variants",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("variant_hash", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.String(length=300), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_variants_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "variant_hash", name=op.f("pk_image_variants")),
    )


def downgrade() -> None:
    op.drop_table("image_variants")
    with op.batch_alter_table("cdn_purges", schema=None) as batch_op:
        batch_op.drop_index("ix_cdn_purges_status_next_attempt_at")

    op.drop_table("cdn_purges")
