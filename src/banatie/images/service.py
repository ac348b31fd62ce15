"""Rules for images: uploads, lookups by id or alias, alias moves, edits and deletion."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.db.paging import PageRequest
from banatie.delivery.state import Delivery
from banatie.delivery.urls import storage_key
from banatie.errors import StorageDown, StorageError, ValidationError
from banatie.flows import service as flows
from banatie.images import repository
from banatie.images.aliases import is_uuid, normalize_alias
from banatie.images.cleanup import ImageCleanup
from banatie.images.errors import AliasConflict, ImageNotFound
from banatie.images.models import Image
from banatie.images.repository import Filters
from banatie.images.schemas import ImageUpdate
from banatie.imaging.probe import InvalidImage, probe, verify_decodes
from banatie.namespaces import service as namespaces
from banatie.providers.ports import AnalysisRequest, AssetAnalysis, AssetAnalyzer
from banatie.quota import service as quota
from banatie.recovery import deletions as blob_deletions
from banatie.runtime import Runtime
from banatie.storage.base import BlobStore, StorageUnavailable
from banatie.validation import check_meta

T = TypeVar("T")
log = logging.getLogger(__name__)


async def list_images(
    session: AsyncSession, project: Project, paging: PageRequest, **filters: Unpack[Filters]
) -> tuple[list[Image], int]:
    """A page of the project's images, the latest first, and how many match in all."""
    return await repository.list_images(session, project.id, paging, **filters)


async def list_aliased(session: AsyncSession, project: Project, *, limit: int) -> list[Image]:
    """The project's images that hold a project alias (`@logo`), by alias."""
    return await repository.list_aliased(session, project.id, limit=limit)


async def resolve_ref(session: AsyncSession, project: Project, ref: str) -> Image:
    """An image id, or an alias with or without its `@`; another project's image is a 404."""
    image: Image | None
    if is_uuid(ref):
        image = await repository.get(session, project.id, ref)
    else:
        image = await repository.get_by_alias(session, project.id, "@" + ref.lstrip("@"))
    if image is None:
        raise ImageNotFound(f"image {ref!r} not found")
    return image


async def assign_alias(
    delivery: Delivery, session: AsyncSession, image: Image, alias: str | None
) -> str | None:
    """Give `image` the alias; if another image holds it, it moves. Returns the previous holder."""
    if alias is None:
        if image.alias:
            await delivery.urls_changed(session, image, [image.alias], "alias removed")
        image.alias = None
        await session.flush()
        return None
    alias = normalize_alias(alias)
    if image.alias == alias:
        return None
    holder = await repository.get_by_alias(session, image.project_id, alias)
    moved_from = None
    if holder is not None and holder.id != image.id:
        await delivery.urls_changed(session, holder, [alias], "alias moved")
        holder.alias = None
        await session.flush()
        moved_from = holder.id
    if image.alias:  # the image leaves its previous alias
        await delivery.urls_changed(session, image, [image.alias], "alias moved")
    image.alias = alias
    # A race lost to another request assigning the same alias is a conflict.
    await transactions.flush_unique(session, AliasConflict(f"alias {alias} was just taken; retry"))
    return moved_from


async def analyze(
    analyzer: AssetAnalyzer,
    data: bytes,
    mime_type: str,
    *,
    prompt: str | None,
    filename: str | None,
) -> AssetAnalysis:
    return await analyzer.analyze(
        AnalysisRequest(data=data, mime_type=mime_type, prompt=prompt, filename=filename)
    )


def new_image(
    project: Project,
    *,
    image_id: str,
    data: bytes,
    analysis: AssetAnalysis,
    source: str,
    flow_id: str | None,
    generation_id: str | None = None,
    original_filename: str | None = None,
    meta: dict[str, Any] | None = None,
    namespace: str | None = None,
) -> Image:
    return Image(
        id=image_id,
        project_id=project.id,
        flow_id=flow_id,
        generation_id=generation_id,
        source=source,
        storage_key=storage_key(project.organization.slug, project.slug, image_id),
        size_bytes=len(data),
        file_hash=hashlib.sha256(data).hexdigest(),
        # The analysis is stored as it is, each field in the column of its name.
        **dataclasses.asdict(analysis),
        original_filename=original_filename,
        meta=meta or {},
        namespace=namespace,
    )


async def write_blob_then_rows(
    blobs: BlobStore,
    session: AsyncSession,
    *,
    key: str,
    data: bytes,
    mime_type: str,
    write_rows: Callable[[], Awaitable[T]],
) -> T:
    """The blob is written before the rows that point at it, which join the caller's unit of
    work; if the rows fail (or that unit rolls back), the blob goes."""
    try:
        await blobs.put(key, data, mime_type)
    except Exception as exc:
        log.exception("blob write failed for %s", key)
        # Unreachable (S3 down) or refusing the write (a full disk).
        error = StorageDown if isinstance(exc, StorageUnavailable) else StorageError
        raise error("the image store is unavailable; nothing was saved, retry later") from exc

    async def drop_blob() -> None:
        try:
            await blobs.delete(key)
        except Exception:  # the store went away meanwhile: `banatie gc` collects the orphan
            log.warning("could not delete blob %s after its rows failed", key, exc_info=True)

    transactions.after_rollback(session, drop_blob)
    try:
        result = await write_rows()
        await session.flush()
    except BaseException:
        await transactions.abandon(session)
        raise
    return result


def parse_meta(raw: str | None, limit: int) -> dict[str, Any]:
    """The upload form's `meta` (a JSON object as text)."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"meta must be a JSON object: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise ValidationError("meta must be a JSON object")
    return check_meta(value, limit)


async def upload(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    *,
    data: bytes,
    filename: str | None,
    alias: str | None,
    flow_id: str | None,
    flow_alias: str | None,
    meta: dict[str, Any],
    namespace: str | None = None,
) -> tuple[Image, str | None]:
    settings = rt.settings
    if not data:
        raise ValidationError("file is empty")
    if len(data) > settings.max_upload_bytes:
        raise ValidationError(
            f"file is {len(data)} bytes; the limit is {settings.max_upload_bytes} bytes"
        )
    try:
        header = probe(data, max_pixels=settings.max_image_pixels)
        await rt.cpu.run(verify_decodes, data)
    except InvalidImage as exc:
        raise ValidationError(str(exc)) from exc
    alias = normalize_alias(alias) if alias else None
    flow_alias = normalize_alias(flow_alias, "flowAlias") if flow_alias else None
    flows.need_flow(flow_alias, flow_id)
    flow = await flows.join(session, project, flow_id) if flow_id else None
    space = await namespaces.find(session, project, namespace)
    analysis = await analyze(rt.analyzer, data, header.mime_type, prompt=None, filename=filename)
    image = new_image(
        project,
        image_id=new_id(),
        data=data,
        analysis=analysis,
        source="uploaded",
        flow_id=flow.id if flow else None,
        original_filename=filename,
        meta=meta,
        namespace=space.slug if space else None,
    )

    async def rows() -> str | None:
        await quota.check_storage(session, project, settings, len(data))
        session.add(image)
        await session.flush()
        moved = await assign_alias(rt.delivery, session, image, alias) if alias else None
        if flow is not None and flow_alias:
            flow.aliases = {**flow.aliases, flow_alias: image.id}
            flow.updated_at = utcnow()
        return moved

    moved_from = await write_blob_then_rows(
        rt.blobs,
        session,
        key=image.storage_key,
        data=data,
        mime_type=image.mime_type,
        write_rows=rows,
    )
    return image, moved_from


async def update(
    delivery: Delivery,
    session: AsyncSession,
    image: Image,
    changes: ImageUpdate,
    *,
    max_meta_bytes: int,
) -> Image:
    if changes.focal_point is not None:
        if (image.focal_x, image.focal_y) != (changes.focal_point.x, changes.focal_point.y):
            refs = [image.id, image.alias or ""]
            await delivery.urls_changed(session, image, refs, "focal point changed")
        image.focal_x, image.focal_y = changes.focal_point.x, changes.focal_point.y
        image.analyzer = "manual"
    if changes.alt_text is not None:
        image.alt_text = changes.alt_text
    if changes.description is not None:
        image.description = changes.description
    if changes.tags is not None:
        image.tags = changes.tags
    if changes.meta is not None:
        image.meta = check_meta(changes.meta, max_meta_bytes)
    image.updated_at = utcnow()
    await session.flush()
    return image


async def set_alias(
    delivery: Delivery, session: AsyncSession, image: Image, alias: str | None
) -> str | None:
    moved_from = await assign_alias(delivery, session, image, alias)
    image.updated_at = utcnow()
    await session.flush()
    return moved_from


async def delete(cleanup: ImageCleanup, session: AsyncSession, image: Image) -> None:
    """Row first (with its CDN purge and the deletion of its blobs in the caller's unit of
    work), then, once that commits, the original and its variants: a store that is down (or a
    crash) in between leaves the blob deletion in the outbox, retried until done, never a row
    pointing at nothing."""
    image_id, key = image.id, image.storage_key
    refs = [image_id, image.alias or ""]
    await cleanup.delivery.urls_changed(session, image, refs, "image deleted")
    deletion = blob_deletions.enqueue(session, key)
    await session.delete(image)
    await session.flush()
    deletion_id = deletion.id

    async def drop_blobs() -> None:
        await cleanup.finish(image_id, key, deletion_id)

    transactions.after_commit(session, drop_blobs)
