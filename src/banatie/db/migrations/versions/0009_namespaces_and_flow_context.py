"""namespaces (style, system prompt, defaults); images remember their namespace; generations
remember the flow context they were made with

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("style_prompt", sa.Text(), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("negative_prompt", sa.Text(), nullable=True),
        sa.Column("style_images", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=32), nullable=True),
        sa.Column("aspect_ratio", sa.String(length=8), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_namespaces_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_namespaces")),
        sa.UniqueConstraint("project_id", "slug", name=op.f("uq_namespaces_project_id_slug")),
    )
    with op.batch_alter_table("namespaces") as batch:
        batch.create_index(batch.f("ix_namespaces_project_id"), ["project_id"], unique=False)
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("namespace", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_images_namespace"), ["namespace"], unique=False)
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("flow_context", sa.JSON(), nullable=True))
        batch.create_index(batch.f("ix_generations_namespace"), ["namespace"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("generations") as batch:
        batch.drop_index(batch.f("ix_generations_namespace"))
        batch.drop_column("flow_context")
    with op.batch_alter_table("images") as batch:
        batch.drop_index(batch.f("ix_images_namespace"))
        batch.drop_column("namespace")
    with op.batch_alter_table("namespaces") as batch:
        batch.drop_index(batch.f("ix_namespaces_project_id"))
    op.drop_table("namespaces")
