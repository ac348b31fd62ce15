"""Rules of the flow routes: create, read, aliases, delete. (`service.py` holds what generations
and uploads need to join a flow; this module builds on images and generations.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db.base import new_id, utcnow
from banatie.db.paging import PageRequest
from banatie.errors import ValidationError
from banatie.flows import repository
from banatie.flows.errors import FlowAliasNotFound, FlowNotFound
from banatie.flows.models import Flow
from banatie.generation.errors import GenerationNotFound
from banatie.generation.models import Generation
from banatie.images import repository as images_repository
from banatie.images import service as images
from banatie.images.aliases import is_uuid, normalize_alias
from banatie.images.cleanup import ImageCleanup
from banatie.settings import Settings
from banatie.validation import check_meta


async def list_flows(
    session: AsyncSession, project: Project, paging: PageRequest
) -> tuple[list[Flow], int]:
    """A page of the project's flows, the most recently changed first, and how many in all."""
    return await repository.list_flows(session, project.id, paging)


async def get(session: AsyncSession, project: Project, flow_id: str) -> Flow:
    flow = await repository.get(session, project.id, flow_id) if is_uuid(flow_id) else None
    if flow is None:
        raise FlowNotFound(f"flow {flow_id[:80]!r} not found")
    return flow


async def _image_id(session: AsyncSession, project: Project, name: str, ref: str) -> str:
    """The image a flow alias should name: an image id or a project alias of this project."""
    ref = ref.strip()
    if is_uuid(ref):
        image = await images_repository.get(session, project.id, ref)
    else:
        image = await images_repository.get_by_alias(session, project.id, "@" + ref.lstrip("@"))
    if image is None:
        raise ValidationError(
            f"aliases.{name}: image {ref[:110]!r} not found in this project",
            details={"alias": name, "image": ref[:110]},
        )
    return image.id


async def _merged(
    session: AsyncSession, project: Project, current: dict[str, Any], given: dict[str, str | None]
) -> dict[str, Any]:
    aliases = dict(current)
    for raw, ref in given.items():
        name = normalize_alias(raw, f"aliases key {raw[:100]!r}: alias")
        if ref is None:
            aliases.pop(name, None)
        else:
            aliases[name] = await _image_id(session, project, name, ref)
    return aliases


async def create(
    session: AsyncSession,
    settings: Settings,
    project: Project,
    aliases: dict[str, str],
    meta: dict[str, Any],
) -> Flow:
    """A flow made up front: later generations and uploads join it with its id."""
    flow = Flow(
        id=new_id(),
        project_id=project.id,
        aliases=await _merged(session, project, {}, dict(aliases)),
        meta=check_meta(meta, settings.max_meta_bytes),
    )
    session.add(flow)
    await session.flush()
    return flow


async def set_aliases(
    session: AsyncSession, project: Project, flow: Flow, given: dict[str, str | None]
) -> Flow:
    flow.aliases = await _merged(session, project, flow.aliases or {}, given)
    flow.updated_at = utcnow()
    await session.flush()
    return flow


async def remove_alias(session: AsyncSession, flow: Flow, raw: str) -> Flow:
    name = "@" + raw.strip().lstrip("@")
    aliases = dict(flow.aliases or {})
    if name not in aliases:
        raise FlowAliasNotFound(f"flow {flow.id} has no alias {name[:100]}")
    del aliases[name]
    flow.aliases = aliases
    flow.updated_at = utcnow()
    await session.flush()
    return flow


async def last_step(session: AsyncSession, flow: Flow) -> Generation:
    generation = await repository.last_generation(session, flow.id)
    if generation is None:
        raise GenerationNotFound(f"flow {flow.id} has no generation to regenerate yet")
    return generation


async def delete(
    cleanup: ImageCleanup, session: AsyncSession, project: Project, flow: Flow
) -> tuple[int, int, list[str]]:
    """Delete the flow, its generations and its images, except images holding a project alias
    (something the user chose to keep): they stay, with no flow. Returns (generations deleted,
    images deleted, ids of the images kept)."""
    flow_id = flow.id
    members = await repository.images_of(session, flow_id)
    kept = [image.id for image in members if image.alias]
    deleted = 0
    for image in members:
        if not image.alias:
            await images.delete(cleanup, session, image)  # row and purge; blobs once committed
            deleted += 1
    fresh = await repository.get(session, project.id, flow_id)
    generations = await repository.remove(session, fresh) if fresh is not None else 0
    await session.flush()
    return generations, deleted, kept
