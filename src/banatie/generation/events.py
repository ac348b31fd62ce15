"""A generation's outcome as a webhook event (`generation.succeeded`, `generation.failed`),
queued in the transaction that records the outcome (banatie.webhooks.events): if the outcome is
committed, so is the event. Its data is the generation as `GET /api/v1/generations/{id}` shows
it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.generation.models import Generation
from banatie.generation.presenters import present_one
from banatie.images.models import Image
from banatie.settings import Settings
from banatie.webhooks import events
from banatie.webhooks.events import Wake
from banatie.webhooks.schemas import EventType


async def finished(
    session: AsyncSession,
    settings: Settings,
    generation: Generation,
    output: Image | None = None,
    *,
    wake: Wake | None = None,
) -> None:
    """Queue the event of `generation`'s state (`success` or `failed`) for its targets."""
    event_type: EventType = (
        "generation.succeeded" if generation.status == "success" else "generation.failed"
    )
    to = await events.targets(session, generation.project_id, event_type, generation.webhook_url)
    if not to:
        return
    project = await session.get(Project, generation.project_id)
    if project is None:
        return
    data = await present_one(session, settings, project, generation, output)
    await events.queue(
        session,
        to,
        project_id=project.id,
        event_type=event_type,
        data=data.model_dump(mode="json", by_alias=True),
        wake=wake,
    )
