"""`POST /api/v1/generations/batch` and `GET /api/v1/batches/{id}`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.jobs import batches
from banatie.jobs.schemas import BatchCreate, BatchOut
from banatie.schemas import ERROR_RESPONSES, Envelope, errors, ok

router = APIRouter(prefix="/api/v1", tags=["batches"], responses=ERROR_RESPONSES)


@router.post(
    "/generations/batch",
    status_code=202,
    responses=errors(409, 429),
    response_description="Accepted: every item is a `pending` generation on the job queue",
)
async def create_batch(
    body: BatchCreate,
    response: Response,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
) -> Envelope[BatchOut]:
    """Queue 1 to 50 generations at once (an icon set, a page's images). Each
    item is the body of `POST /generations`; `aspectRatio`, `imageSize`, `template`,
    `autoEnhance` and `namespace` given on the batch apply to the items that give none. Each
    item becomes a normal generation with its own status, charge and alias. The batch is
    accepted whole or refused whole: it counts as that many requests against the rate limit
    (`429 RATE_LIMIT_EXCEEDED`) and must fit the monthly allowance (`429 QUOTA_EXCEEDED`,
    `details.requested` and `details.remaining`); an item refused like a generation would be
    (`400`, its index in `details.item`) refuses the batch. Nothing is queued or reserved
    then. Poll `GET /batches/{id}` (the `Location`)."""
    batch, limited = await batches.submit(runtime, session, project, body)
    if limited is not None:
        response.headers.update(limited.headers())
    response.headers["Location"] = f"{router.prefix}/batches/{batch.id}"
    return ok(await batches.present(session, batch))


@router.get("/batches/{batch_id}")
async def get_batch(batch_id: str, session: SessionDep, project: ProjectDep) -> Envelope[BatchOut]:
    """A batch's progress: its items' generation ids and statuses, counts per status, and
    `completed` once every item is `success` or `failed`."""
    batch = await batches.get(session, project, batch_id)
    return ok(await batches.present(session, batch))
