"""SQL for live URLs. The hit path is `find_ready`: one indexed SELECT, no ORM session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from banatie.accounts.models import Organization, Project
from banatie.db.base import Base, new_id, utcnow
from banatie.db.paging import PageRequest, fetch_page, given
from banatie.images.models import Image
from banatie.live.models import LiveEntry, LiveScope, LiveSettings
from banatie.live.state import CachedImage, ProjectRef

LIVE_STATUSES = ("pending", "ready")  # what counts against a scope's newGenerationsLimit

# Labelled with CachedImage's field names: a row is one, given its cache key and scope.
_READY = (
    select(
        LiveEntry.id.label("entry_id"),
        LiveEntry.generation_id,
        Image.id.label("image_id"),
        Image.storage_key,
        Image.mime_type,
        Image.file_hash,
        Image.size_bytes,
        Image.width,
        Image.height,
        Image.has_alpha,
        Image.focal_x,
        Image.focal_y,
        Image.created_at,
        Image.updated_at,
    )
    .join(Image, Image.id == LiveEntry.image_id)
    .where(LiveEntry.cache_key == bindparam("key"), LiveEntry.status == "ready")
)
# A claimed or ready entry carries no error from an earlier failed attempt.
_NO_ERROR: dict[str, None] = {"error_status": None, "error_code": None, "error_message": None}
_PROJECT = (
    select(Project.id, Organization.slug, Project.slug)
    .join(Organization, Organization.id == Project.organization_id)
    .where(Organization.slug == bindparam("org"), Project.slug == bindparam("project"))
)
_STATE = select(
    LiveEntry.status,
    LiveEntry.heartbeat_at,
    LiveEntry.error_status,
    LiveEntry.error_code,
    LiveEntry.error_message,
).where(LiveEntry.cache_key == bindparam("key"))


async def find_project(conn: AsyncConnection, org: str, project: str) -> ProjectRef | None:
    row = (await conn.execute(_PROJECT, {"org": org, "project": project})).first()
    return None if row is None else ProjectRef(id=row[0], organization_slug=row[1], slug=row[2])


async def find_ready(conn: AsyncConnection, cache_key: str, scope: str) -> CachedImage | None:
    row = (await conn.execute(_READY, {"key": cache_key})).first()
    return None if row is None else CachedImage(cache_key=cache_key, scope=scope, **row._mapping)


async def entry_state(
    conn: AsyncConnection, cache_key: str
) -> tuple[str, datetime, int | None, str | None, str | None] | None:
    row = (await conn.execute(_STATE, {"key": cache_key})).first()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


# -- settings ------------------------------------------------------------------------------


async def get_settings(session: AsyncSession, project_id: str) -> LiveSettings | None:
    return await session.get(LiveSettings, project_id)


async def get_or_create_settings(session: AsyncSession, project_id: str) -> LiveSettings:
    found = await session.get(LiveSettings, project_id)
    if found is None:
        now = utcnow()
        await _insert_new(
            session,
            LiveSettings,
            project_id=project_id,
            allowed_referrers=[],
            require_signature=False,
            auto_create_scopes=True,
            default_allow_new_generations=True,
            created_at=now,
            updated_at=now,
        )
        found = await session.get(LiveSettings, project_id)  # ours, or a concurrent request's
    assert found is not None
    return found


async def _insert_new(session: AsyncSession, model: type[Base], **values: Any) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: False when the row's key is taken (a concurrent insert
    waits for the other transaction, then inserts nothing). Nothing fails, so the caller's
    transaction goes on."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing()
    result = await session.execute(statement.returning(*inspect(model).primary_key))
    return result.first() is not None


# -- scopes --------------------------------------------------------------------------------


async def get_scope(session: AsyncSession, project_id: str, slug: str) -> LiveScope | None:
    result = await session.execute(
        select(LiveScope).where(LiveScope.project_id == project_id, LiveScope.slug == slug)
    )
    return result.scalar_one_or_none()


async def insert_scope(
    session: AsyncSession,
    project_id: str,
    slug: str,
    *,
    allow_new_generations: bool,
    new_generations_limit: int,
    meta: dict[str, Any],
) -> LiveScope | None:
    """The new scope; None when the project has one with this slug already (made a moment
    ago by a concurrent request, maybe)."""
    scope_id, now = new_id(), utcnow()
    inserted = await _insert_new(
        session,
        LiveScope,
        id=scope_id,
        project_id=project_id,
        slug=slug,
        allow_new_generations=allow_new_generations,
        new_generations_limit=new_generations_limit,
        meta=meta,
        created_at=now,
        updated_at=now,
    )
    return await session.get(LiveScope, scope_id) if inserted else None


async def lock_scope(session: AsyncSession, scope_id: str) -> None:
    """PostgreSQL: serialise claims in one scope (the limit is counted under this lock).
    SQLite serialises writers by itself (the claim's INSERT takes the write lock first)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(
            select(LiveScope.id).where(LiveScope.id == scope_id).with_for_update()
        )


async def list_scopes(
    session: AsyncSession, project_id: str, paging: PageRequest
) -> tuple[list[LiveScope], int]:
    return await fetch_page(session, LiveScope, LiveScope.slug, at=paging, project_id=project_id)


async def scope_stats(
    session: AsyncSession, scope_ids: list[str]
) -> dict[str, tuple[int, datetime | None]]:
    """scope id -> (entries counted against its limit, when its last image was made)."""
    if not scope_ids:
        return {}
    result = await session.execute(
        select(LiveEntry.scope_id, func.count(), func.max(LiveEntry.updated_at))
        .where(LiveEntry.scope_id.in_(scope_ids), LiveEntry.status.in_(LIVE_STATUSES))
        .group_by(LiveEntry.scope_id)
    )
    return {row[0]: (int(row[1]), row[2]) for row in result.all()}


async def count_live(session: AsyncSession, scope_id: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(LiveEntry)
        .where(LiveEntry.scope_id == scope_id, LiveEntry.status.in_(LIVE_STATUSES))
    )
    return int(result.scalar_one())


# -- entries -------------------------------------------------------------------------------


async def get_entry(session: AsyncSession, cache_key: str) -> LiveEntry | None:
    result = await session.execute(
        select(LiveEntry)
        .where(LiveEntry.cache_key == cache_key)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def take_over(session: AsyncSession, entry: LiveEntry, owner: str, now: datetime) -> bool:
    """Claim a failed or abandoned entry, unless someone else changed it since we read it."""
    result = await session.execute(
        update(LiveEntry)
        .where(
            LiveEntry.id == entry.id,
            LiveEntry.status == entry.status,
            LiveEntry.heartbeat_at == entry.heartbeat_at,
        )
        .values(
            status="pending",
            owner=owner,
            heartbeat_at=now,
            **_NO_ERROR,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def heartbeat(session: AsyncSession, entry_id: str, owner: str) -> None:
    await session.execute(
        update(LiveEntry)
        .where(LiveEntry.id == entry_id, LiveEntry.owner == owner, LiveEntry.status == "pending")
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def mark_ready(
    session: AsyncSession, entry_id: str, image_id: str, generation_id: str
) -> bool:
    """False when the entry is gone (its scope or image was deleted meanwhile)."""
    now = utcnow()
    result = await session.execute(
        update(LiveEntry)
        .where(LiveEntry.id == entry_id)
        .values(
            status="ready",
            image_id=image_id,
            generation_id=generation_id,
            owner=None,
            heartbeat_at=now,
            **_NO_ERROR,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def mark_failed(
    session: AsyncSession, entry_id: str, owner: str, status: int, code: str, message: str
) -> None:
    now = utcnow()
    await session.execute(
        update(LiveEntry)
        .where(LiveEntry.id == entry_id, LiveEntry.owner == owner)
        .values(
            status="failed",
            owner=None,
            heartbeat_at=now,
            error_status=status,
            error_code=code[:40],
            error_message=message[:2000],
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, entry_id: str, owner: str) -> None:
    """Give a claim back without a verdict (a refusal before generating): the row goes."""
    await session.execute(
        delete(LiveEntry)
        .where(LiveEntry.id == entry_id, LiveEntry.owner == owner, LiveEntry.status == "pending")
        .execution_options(synchronize_session=False)
    )


async def list_entries(
    session: AsyncSession, scope_id: str, paging: PageRequest, *, status: str | None
) -> tuple[list[tuple[LiveEntry, Image | None]], int]:
    query = select(LiveEntry).filter_by(scope_id=scope_id, **given(status=status))
    total = await session.execute(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.add_columns(Image)
        .outerjoin(Image, Image.id == LiveEntry.image_id)
        .order_by(LiveEntry.created_at.desc(), LiveEntry.id)
        .limit(paging.limit)
        .offset(paging.offset)
    )
    return [(row[0], row[1]) for row in rows.all()], int(total.scalar_one())


async def scope_entries(session: AsyncSession, scope_id: str) -> list[LiveEntry]:
    result = await session.execute(
        select(LiveEntry).where(LiveEntry.scope_id == scope_id).order_by(LiveEntry.created_at)
    )
    return list(result.scalars().all())


async def entry_by_image(session: AsyncSession, scope_id: str, image_id: str) -> LiveEntry | None:
    result = await session.execute(
        select(LiveEntry).where(LiveEntry.scope_id == scope_id, LiveEntry.image_id == image_id)
    )
    return result.scalar_one_or_none()
