from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banatie.accounts.models import ProjectOwned
from banatie.db.base import Base, IdMixin, TimestampMixin

# A generation waiting in the job queue or running: not finished yet.
UNFINISHED = ("pending", "processing")


class Batch(IdMixin, TimestampMixin, Base):
    """Generations submitted together (`POST /api/v1/generations/batch`, banatie.jobs); each
    item is a generation with `batch_id` set, its own status, charge and alias."""

    __tablename__ = "batches"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    total: Mapped[int]
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # Set once, by the run that finished the last item (banatie.jobs.batches).
    completed_at: Mapped[datetime | None]


class Generation(ProjectOwned, IdMixin, TimestampMixin, Base):
    __tablename__ = "generations"
    # The recovery sweep reads the in-flight rows every few seconds.
    __table_args__ = (Index("ix_generations_status_owner", "status", "owner"),)

    flow_id: Mapped[str | None] = mapped_column(
        ForeignKey("flows.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # pending | processing | success | failed
    source: Mapped[str] = mapped_column(
        String(16), default="api"
    )  # api | live | regenerate | openai
    original_prompt: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    aspect_ratio: Mapped[str] = mapped_column(String(8))
    # What was asked of the model (512, 1K, 2K, 4K); None on rows older than the column.
    image_size: Mapped[str | None] = mapped_column(String(8))
    template: Mapped[str | None] = mapped_column(String(32))
    auto_enhance: Mapped[bool]
    namespace: Mapped[str | None] = mapped_column(String(64), index=True)
    alias: Mapped[str | None] = mapped_column(String(100))
    flow_alias: Mapped[str | None] = mapped_column(String(100))
    # Explicit referenceImages as the caller gave them (ids or aliases).
    requested_references: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What was passed to the model: [{"id", "alias"}].
    referenced_images: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    output_image_id: Mapped[str | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL")
    )
    detected_language: Mapped[str | None] = mapped_column(String(8))
    enhancer: Mapped[str | None] = mapped_column(String(32))
    synthesizer: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(100))
    token_usage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    processing_time_ms: Mapped[int | None]
    # 1 for the first run, +1 per regeneration: each successful attempt is charged once.
    attempts: Mapped[int] = mapped_column(default=0)
    # What the flow lent this step (earlier prompts, @last's description): `flowContext`.
    flow_context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The worker (server process) running it while `processing` (banatie.recovery).
    owner: Mapped[str | None] = mapped_column(String(64))
    # Told when the generation succeeds or fails (banatie.webhooks), besides the project's
    # webhook endpoints.
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # Run on the job queue (async or batch, banatie.jobs): `pending` until a worker claims it;
    # a dead worker's queued generation goes back to `pending` instead of failing.
    queued: Mapped[bool] = mapped_column(default=False)
    # Runs of a queued generation started so far (a transient provider failure is retried
    # up to BANATIE_JOB_MAX_ATTEMPTS).
    job_attempts: Mapped[int] = mapped_column(default=0)
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), index=True
    )
    # Its place in the batch's `items` (0-based).
    batch_index: Mapped[int | None]
