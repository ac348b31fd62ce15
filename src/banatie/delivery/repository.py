"""SQL for delivery. The hot path (a cached variant) costs one indexed SELECT and no writes.

:class:`DeliveryDb` runs it. On PostgreSQL it uses the app's async engine. On SQLite a read
through aiosqlite costs half a dozen thread hand-offs (cursor, execute, fetch, close, the
pool's rollback), several milliseconds on a busy machine; so reads run the same statements,
compiled once, on thread-local stdlib connections to the same file: one worker-thread hop.
Writes (rare: one per rendered variant) stay on the async engine.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import (
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from banatie.accounts.models import Organization, Project
from banatie.db.base import utcnow
from banatie.delivery.models import DECODED_FORMAT, ImageVariant
from banatie.images.models import Image


@dataclass(frozen=True, slots=True)
class ImageRow:
    """What delivery needs to know about an image (no ORM object, no session)."""

    id: str
    storage_key: str
    mime_type: str
    size_bytes: int
    width: int
    height: int
    has_alpha: bool
    file_hash: str
    focal_x: float
    focal_y: float
    created_at: datetime
    updated_at: datetime
    project_id: str


_COLUMNS = (
    Image.id,
    Image.storage_key,
    Image.mime_type,
    Image.size_bytes,
    Image.width,
    Image.height,
    Image.has_alpha,
    Image.file_hash,
    Image.focal_x,
    Image.focal_y,
    Image.created_at,
    Image.updated_at,
    Image.project_id,
)


def _lookup(by_alias: bool) -> Select[*tuple[Any, ...]]:
    ref_column = Image.alias if by_alias else Image.id
    return (
        select(*_COLUMNS)
        .join(Project, Project.id == Image.project_id)
        .join(Organization, Organization.id == Project.organization_id)
        .where(
            Organization.slug == bindparam("org"),
            Project.slug == bindparam("project"),
            ref_column == bindparam("ref"),
        )
    )


# Built once: SQLAlchemy caches their compiled form, so a lookup is a cache hit + one query.
BY_ID = _lookup(by_alias=False)
BY_ALIAS = _lookup(by_alias=True)
PROJECT = (
    select(Project.id)
    .join(Organization, Organization.id == Project.organization_id)
    .where(Organization.slug == bindparam("org"), Project.slug == bindparam("project"))
)
OTHER_VARIANT = select(
    exists().where(
        ImageVariant.image_id == bindparam("image_id"),
        ImageVariant.variant_hash != bindparam("variant_hash"),
    )
)


class Reservation(enum.Enum):
    """What :meth:`DeliveryDb.reserve_variant` found."""

    NEW = "new"  # the row is ours: render, store, then finish (or release) it
    EXISTS = "exists"  # already recorded (another replica, or a blob that went missing)
    FULL = "full"  # a new counted spec past the cap on unsigned variants
    GONE = "gone"  # the image was deleted


def _image_params(
    org: str, project: str, ref: str
) -> tuple[Select[*tuple[Any, ...]], dict[str, str]]:
    statement = BY_ALIAS if ref.startswith("@") else BY_ID
    return statement, {"org": org, "project": project, "ref": ref}


def _parse_time(value: Any) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _image_row(row: Any) -> ImageRow:
    values = list(row)
    values[6] = bool(values[6])
    values[10], values[11] = _parse_time(values[10]), _parse_time(values[11])
    return ImageRow(*values)


class _SqliteReader:
    """Thread-local stdlib sqlite3 connections on the app's SQLite file, for reads only.

    A statement is compiled once for SQLite; a lookup is one `execute` in a worker thread
    (about 25 µs on this machine, against several milliseconds through aiosqlite).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._compiled: dict[int, tuple[str, tuple[str, ...]]] = {}

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _sql(self, statement: Any) -> tuple[str, tuple[str, ...]]:
        found = self._compiled.get(id(statement))
        if found is None:
            compiled = statement.compile(dialect=sqlite_dialect.dialect())
            found = (str(compiled), tuple(compiled.positiontup or ()))
            self._compiled[id(statement)] = found
        return found

    def rows(self, statement: Any, params: dict[str, str]) -> list[Any]:
        sql, names = self._sql(statement)
        return self._connection().execute(sql, [params[n] for n in names]).fetchall()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()


class DeliveryDb:
    def __init__(self, engine: AsyncEngine, database_url: str) -> None:
        self.engine = engine
        self._reader: _SqliteReader | None = None
        if engine.dialect.name == "sqlite":
            path = make_url(database_url).database
            if path and path != ":memory:":
                self._reader = _SqliteReader(path)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()

    async def _rows(self, statement: Any, params: dict[str, str]) -> list[Any]:
        if self._reader is not None:
            return await anyio.to_thread.run_sync(self._reader.rows, statement, params)
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement, params)).all())

    async def find_image(self, org: str, project: str, ref: str) -> ImageRow | None:
        rows = await self._rows(*_image_params(org, project, ref))
        return _image_row(rows[0]) if rows else None

    async def project_exists(self, org: str, project: str) -> bool:
        return bool(await self._rows(PROJECT, {"org": org, "project": project}))

    async def has_other_variant(self, image_id: str, variant_hash: str) -> bool:
        """Whether the image has a variant (reserved or stored) besides ``variant_hash``, or
        its decoded pixels."""
        params = {"image_id": image_id, "variant_hash": variant_hash}
        return bool((await self._rows(OTHER_VARIANT, params))[0][0])

    async def reserve_variant(
        self,
        *,
        image_id: str,
        variant_hash: str,
        spec: str,
        output_format: str,
        counted: bool,
        signed: bool,
        cap: int,
    ) -> Reservation:
        """Record a variant before it is rendered, refusing a new counted spec past ``cap``
        (0: no cap) in the same statement, so concurrent misses cannot pass it together.

        SQLite runs one writer at a time and the INSERT's own SELECT reads the latest rows;
        PostgreSQL first locks the image's row, so reservations for one image take turns.
        """
        columns = ImageVariant.__table__.c
        values = {
            "image_id": image_id,
            "variant_hash": variant_hash,
            "spec": spec,
            "format": output_format,
            "counted": counted,
            "signed": signed,
            "size_bytes": 0,
            "created_at": utcnow(),
        }
        row = select(*(literal(v, type_=columns[k].type).label(k) for k, v in values.items()))
        if counted and cap > 0:
            mine = (ImageVariant.image_id == image_id) & ImageVariant.counted.is_(True)
            specs = select(func.count(func.distinct(ImageVariant.spec))).where(mine)
            known = exists().where(mine, ImageVariant.spec == spec)
            row = row.where(or_(known, specs.scalar_subquery() < cap))
        statement = (
            insert(ImageVariant)
            .from_select(list(values), row)
            .returning(ImageVariant.variant_hash)  # rowcount is -1 here on some drivers
        )
        async with self.engine.connect() as conn:
            try:
                if conn.dialect.name == "postgresql":
                    lock = select(Image.id).where(Image.id == image_id).with_for_update()
                    if (await conn.execute(lock)).first() is None:
                        await conn.rollback()
                        return Reservation.GONE
                inserted = (await conn.execute(statement)).first()
                await conn.commit()
                return Reservation.NEW if inserted is not None else Reservation.FULL
            except IntegrityError:  # the same variant (primary key) or no image (foreign key)
                await conn.rollback()
            image = await conn.execute(select(Image.id).where(Image.id == image_id))
            return Reservation.EXISTS if image.first() is not None else Reservation.GONE

    async def finish_variant(self, image_id: str, variant_hash: str, size_bytes: int) -> bool:
        """Set a stored variant's size; False when its row is gone (the image was deleted)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(ImageVariant)
                .where(ImageVariant.image_id == image_id, ImageVariant.variant_hash == variant_hash)
                .values(size_bytes=size_bytes)
            )
            return bool(result.rowcount)

    async def release_variant(self, image_id: str, variant_hash: str) -> None:
        """Forget a reservation whose render or store failed: it counts for nothing."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(ImageVariant).where(
                    ImageVariant.image_id == image_id, ImageVariant.variant_hash == variant_hash
                )
            )

    async def record_decoded(self, image_id: str, name: str, size_bytes: int) -> bool:
        """Record an image's decoded pixels (a derived blob: it counts as storage, never against
        the cap); False when the image is gone."""
        async with self.engine.connect() as conn:
            try:
                await conn.execute(
                    insert(ImageVariant).values(
                        image_id=image_id,
                        variant_hash=name,
                        spec="",
                        format=DECODED_FORMAT,
                        counted=False,
                        signed=False,
                        size_bytes=size_bytes,
                        created_at=utcnow(),
                    )
                )
                await conn.commit()
                return True
            except IntegrityError:
                await conn.rollback()
            exists_now = await conn.execute(select(Image.id).where(Image.id == image_id))
            return exists_now.first() is not None
