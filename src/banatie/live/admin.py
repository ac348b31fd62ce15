"""Live scopes and their images through the API: create, list, change, delete, regenerate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import utcnow
from banatie.db.paging import PageRequest
from banatie.db.transactions import unit_of_work
from banatie.errors import ApiError
from banatie.generation import repository as generation_repository
from banatie.generation import service as generation
from banatie.generation.errors import GenerationInProgress
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.images.aliases import is_uuid
from banatie.images.errors import ImageNotFound
from banatie.images.models import Image
from banatie.live import claims, repository
from banatie.live.cache_key import normalize_scope
from banatie.live.errors import (
    ScopeAlreadyExists,
    ScopeNotFound,
)
from banatie.live.models import LiveEntry, LiveScope
from banatie.live.policy import project_policy
from banatie.live.schemas import ScopeUpdate
from banatie.live.service import generation_input
from banatie.providers.errors import ProviderError
from banatie.runtime import Runtime
from banatie.validation import check_meta

# The orphan's deletion stands although the regeneration ends in an error.
ORPHAN = "an image made for a live entry deleted meanwhile is deleted"


@dataclass(frozen=True)
class ScopeView:
    """A scope with what it holds: entries counted against its limit, its last image's time."""

    scope: LiveScope
    used: int = 0
    last_generated_at: datetime | None = None


@dataclass(frozen=True)
class Failure:
    image_id: str | None
    code: str
    message: str


async def get_scope(session: AsyncSession, project: Project, slug: str) -> LiveScope:
    scope = await repository.get_scope(session, project.id, slug)
    if scope is None:
        raise ScopeNotFound(f"live scope {slug!r} not found")
    return scope


async def find_scope(session: AsyncSession, project: Project, raw_slug: str) -> LiveScope:
    """The scope a path or form names (normalised like a live URL's `scope`)."""
    return await get_scope(session, project, normalize_scope(raw_slug))


async def view(session: AsyncSession, scope: LiveScope) -> ScopeView:
    used, last = (await repository.scope_stats(session, [scope.id])).get(scope.id, (0, None))
    return ScopeView(scope, used, last)


async def list_scopes(
    session: AsyncSession, project: Project, paging: PageRequest
) -> tuple[list[ScopeView], int]:
    scopes, total = await repository.list_scopes(session, project.id, paging)
    stats = await repository.scope_stats(session, [scope.id for scope in scopes])
    return [ScopeView(scope, *stats.get(scope.id, (0, None))) for scope in scopes], total


async def create_scope(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    slug: str,
    *,
    allow_new_generations: bool | None,
    new_generations_limit: int | None,
    meta: dict[str, Any],
) -> LiveScope:
    rules = await project_policy(rt, session, project.id)
    scope = await repository.insert_scope(
        session,
        project.id,
        slug,
        allow_new_generations=(
            rules.default_allow_new_generations
            if allow_new_generations is None
            else allow_new_generations
        ),
        new_generations_limit=(
            rules.default_new_generations_limit
            if new_generations_limit is None
            else new_generations_limit
        ),
        meta=check_meta(meta, rt.settings.max_meta_bytes),
    )
    if scope is None:
        raise ScopeAlreadyExists(slug)
    return scope


async def update_scope(
    rt: Runtime, session: AsyncSession, scope: LiveScope, changes: ScopeUpdate
) -> LiveScope:
    """Change what is given (None: unchanged)."""
    if changes.allow_new_generations is not None:
        scope.allow_new_generations = changes.allow_new_generations
    if changes.new_generations_limit is not None:
        scope.new_generations_limit = changes.new_generations_limit
    if changes.meta is not None:
        scope.meta = check_meta(changes.meta, rt.settings.max_meta_bytes)
    scope.updated_at = utcnow()
    await session.flush()
    return scope


async def delete_scope(
    rt: Runtime, session: AsyncSession, project: Project, scope: LiveScope
) -> int:
    """The scope, its entries and their images (blobs and variants too). Returns how many
    images went."""
    entries = await repository.scope_entries(session, scope.id)
    image_ids = [entry.image_id for entry in entries if entry.image_id]
    keys = [entry.cache_key for entry in entries]
    _forget(rt, session, keys)
    await session.delete(scope)
    await session.flush()  # its entries go with it (ON DELETE CASCADE), before their images
    deleted = 0
    for image in await image_repository.get_many(session, project.id, image_ids):
        await images.delete(rt.image_cleanup, session, image)
        deleted += 1
    return deleted


def _forget(rt: Runtime, session: AsyncSession, keys: list[str]) -> None:
    """This process stops serving the live URLs at once (no new hit fills the cache from rows
    about to go), and again once the unit of work has committed (one that read the rows
    before the commit may have)."""
    rt.live.forget(*keys)

    async def again() -> None:
        rt.live.forget(*keys)

    transactions.after_commit(session, again)


# -- the images of a scope -------------------------------------------------------------------


async def list_images(
    session: AsyncSession, scope: LiveScope, paging: PageRequest, *, status: str | None
) -> tuple[list[tuple[LiveEntry, Image | None]], int]:
    return await repository.list_entries(session, scope.id, paging, status=status)


async def find_image(session: AsyncSession, scope: LiveScope, ref: str) -> LiveEntry:
    """A live image by its image id or its entry id."""
    entry = None
    if is_uuid(ref):
        entry = await repository.entry_by_image(session, scope.id, ref)
        if entry is None:
            found = await session.get(LiveEntry, ref)
            entry = found if found is not None and found.scope_id == scope.id else None
    if entry is None:
        raise ImageNotFound(f"image {ref!r} not found in live scope {scope.slug!r}")
    return entry


async def delete_image(rt: Runtime, session: AsyncSession, entry: LiveEntry) -> None:
    """Delete an entry and its image (the next request for its URL generates again)."""
    image = (
        await image_repository.get(session, entry.project_id, entry.image_id)
        if entry.image_id
        else None
    )
    _forget(rt, session, [entry.cache_key])
    await session.delete(entry)
    await session.flush()  # the entry first: deleting the image would cascade to it
    if image is not None:
        await images.delete(rt.image_cleanup, session, image)


async def regenerate_entry(
    rt: Runtime, session: AsyncSession, project: Project, entry: LiveEntry
) -> LiveEntry:
    """Generate the entry's request again into a new image; the live URL moves to it and the
    old image (with its variants) is deleted. Charged like any generation."""
    if entry.status != "ready":
        raise GenerationInProgress(
            "this live image is still being generated or failed; request its URL instead"
        )
    old = (
        await image_repository.get(session, project.id, entry.image_id) if entry.image_id else None
    )
    existing = (
        await generation_repository.get(session, project.id, entry.generation_id)
        if entry.generation_id
        else None
    )
    entry_id, cache_key = entry.id, entry.cache_key
    if existing is not None:
        result = await generation.regenerate(rt, session, project, existing)
    else:
        result = await generation.create(
            rt, session, project, generation_input(entry, {"cacheKey": cache_key}), flow_id=None
        )
    assert result.image is not None
    _forget(rt, session, [cache_key])
    if not await claims.link(session, entry_id, result.image.id, result.generation.id):
        await images.delete(rt.image_cleanup, session, result.image)
        await transactions.commit_early(session, why=ORPHAN)
        raise ImageNotFound("the live image was deleted meanwhile")
    if old is not None:
        await images.delete(rt.image_cleanup, session, old)
    fresh = await repository.get_entry(session, cache_key)
    assert fresh is not None
    return fresh


async def regenerate_scope(
    rt: Runtime, session: AsyncSession, project: Project, scope: LiveScope, image_ref: str | None
) -> tuple[list[tuple[LiveEntry, Image | None]], list[Failure]]:
    """Regenerate one image (`image_ref`) or every ready image of the scope, one after the
    other, each in a unit of work of its own (a failure undoes only its own): (the regenerated
    entries with their new images, the failures). A failure of the single image is raised; a
    429 stops the batch (the rest would be refused too)."""
    single = bool(image_ref)
    if image_ref:
        entries = [await find_image(session, scope, image_ref)]
    else:
        entries = [
            e for e in await repository.scope_entries(session, scope.id) if e.status == "ready"
        ]
    targets = [(e.cache_key, e.image_id) for e in entries]
    done: list[tuple[LiveEntry, Image | None]] = []
    failed: list[Failure] = []
    for cache_key, image_id in targets:
        try:
            async with unit_of_work(rt.sessionmaker) as own:
                done.append(await _regenerate_one(rt, own, project.id, scope, cache_key, image_id))
        except (ApiError, ProviderError) as exc:
            if single:
                raise
            failed.append(Failure(image_id=image_id, code=exc.code, message=exc.message))
            if exc.status == 429:  # quota or rate limit: the rest would be refused too
                break
    if not done and failed and all(f.code == GenerationInProgress.code for f in failed):
        # Another request is regenerating all of them: nothing to add to it.
        raise GenerationInProgress(
            f"the images of live scope {scope.slug!r} are being regenerated already"
        )
    return done, failed


async def _regenerate_one(
    rt: Runtime,
    session: AsyncSession,
    project_id: str,
    scope: LiveScope,
    cache_key: str,
    image_id: str | None,
) -> tuple[LiveEntry, Image | None]:
    project = await session.get(Project, project_id)
    entry = await repository.get_entry(session, cache_key)
    if project is None or entry is None:
        raise ImageNotFound(f"image {image_id!r} not found in live scope {scope.slug!r}")
    fresh = await regenerate_entry(rt, session, project, entry)
    image = await images.resolve_ref(session, project, fresh.image_id) if fresh.image_id else None
    return fresh, image
