"""Queueing generations: an async generation (`Prefer: respond-async` or `"async": true`) and
the items of a batch. The row is made exactly as a synchronous generation's (same validation,
references, flow and namespace rules, same reservation of the monthly allowance) but stays
`pending`; its job is queued in the request's transaction, so the answer (202) is given only for
work that will run. A refusal (validation, quota) is answered at once, like a synchronous one."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.generation import service as generations
from banatie.generation.models import Generation
from banatie.quota import service as quota
from banatie.runtime import Runtime


async def submit(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    data: generations.GenerationInput,
    *,
    flow_id: str | object | None = generations.NEW_FLOW,
    batch_id: str | None = None,
    one_by_one: bool = True,
) -> Generation:
    """Add a pending generation, its reservation and its job to the caller's unit of work.
    Not `one_by_one`: the generation only (a batch reserves and queues its items at once)."""
    prepared = await generations.prepare(
        rt, session, project, data, flow_id=flow_id, status="pending"
    )
    generation = prepared.generation
    generation.queued = True
    generation.batch_id = batch_id
    session.add(generation)
    if not one_by_one:
        return generation
    await quota.reserve(
        session, project, rt.settings, generation_id=generation.id, attempt=1, source=data.source
    )
    await rt.jobs.enqueue(session, [generation.id])
    return generation
