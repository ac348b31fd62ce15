"""live URLs: project live settings, scopes and cache entries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_settings",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("allowed_referrers", sa.JSON(), nullable=False),
        sa.Column("require_signature", sa.Boolean(), nullable=False),
        sa.Column("signing_secret", sa.String(length=64), nullable=True),
        sa.Column("ip_rate_limit", sa.String(length=40), nullable=True),
        sa.Column("auto_create_scopes", sa.Boolean(), nullable=False),
        sa.Column("default_allow_new_generations", sa.Boolean(), nullable=False),
        sa.Column("default_new_generations_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_live_settings_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_live_settings")),
    )
    op.create_table(
        "live_scopes",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("allow_new_generations", sa.Boolean(), nullable=False),
        sa.Column("new_generations_limit", sa.Integer(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_live_scopes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_scopes")),
        sa.UniqueConstraint("project_id", "slug", name=op.f("uq_live_scopes_project_id_slug")),
    )
    with op.batch_alter_table("live_scopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_scopes_project_id"), ["project_id"], unique=False)

    op.create_table(
        "live_entries",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("scope_id", sa.String(length=36), nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("aspect_ratio", sa.String(length=8), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=True),
        sa.Column("auto_enhance", sa.Boolean(), nullable=False),
        sa.Column("namespace", sa.String(length=64), nullable=True),
        sa.Column("generation_id", sa.String(length=36), nullable=True),
        sa.Column("image_id", sa.String(length=36), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_live_entries_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_live_entries_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scope_id"],
            ["live_scopes.id"],
            name=op.f("fk_live_entries_scope_id_live_scopes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_entries")),
        sa.UniqueConstraint("cache_key", name=op.f("uq_live_entries_cache_key")),
    )
    with op.batch_alter_table("live_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_entries_image_id"), ["image_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_live_entries_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index(
            "ix_live_entries_scope_id_status", ["scope_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("live_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_live_entries_scope_id_status")
        batch_op.drop_index(batch_op.f("ix_live_entries_project_id"))
        batch_op.drop_index(batch_op.f("ix_live_entries_image_id"))
    op.drop_table("live_entries")
    with op.batch_alter_table("live_scopes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_scopes_project_id"))
    op.drop_table("live_scopes")
    op.drop_table("live_settings")
