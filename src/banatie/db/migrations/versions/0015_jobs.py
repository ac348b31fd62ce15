"""jobs: queued generations (async, batch), batches, and the job queue's schema on PostgreSQL

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_batches_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
    )
    with op.batch_alter_table("batches") as batch:
        batch.create_index("ix_batches_project_id", ["project_id"], unique=False)
    with op.batch_alter_table("generations") as batch:
        batch.add_column(
            sa.Column("queued", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("job_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("batch_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("batch_index", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_generations_batch_id_batches"),
            "batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_generations_batch_id", ["batch_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The job queue (procrastinate, banatie.jobs.postgres): its tables, types and functions,
        # as the installed version ships them.
        from procrastinate.schema import SchemaManager

        op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(
            """
            DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
                procrastinate_jobs, procrastinate_workers CASCADE;
            DO $$ DECLARE f record; BEGIN
              FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                       WHERE p.proname LIKE 'procrastinate%%' LOOP
                EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE';
              END LOOP;
            END $$;
            DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
                procrastinate_job_status CASCADE;
            """
        )
    with op.batch_alter_table("generations") as batch:
        batch.drop_index("ix_generations_batch_id")
        batch.drop_constraint(op.f("fk_generations_batch_id_batches"), type_="foreignkey")
        batch.drop_column("batch_index")
        batch.drop_column("batch_id")
        batch.drop_column("job_attempts")
        batch.drop_column("queued")
    with op.batch_alter_table("batches") as batch:
        batch.drop_index("ix_batches_project_id")
    op.drop_table("batches")
