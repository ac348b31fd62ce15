"""`/api/v1/images`: uploads, listing, lookups by id or alias, edits, aliases, deletion."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.errors import ValidationError
from banatie.images import service
from banatie.images.presenters import present_image
from banatie.images.schemas import (
    AliasAssignment,
    DeletedImage,
    ImageAliasResult,
    ImageOut,
    ImageUpdate,
)
from banatie.namespaces.schemas import NamespaceQuery
from banatie.path_rows import ImageDep
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, PageQuery, errors, ok, page
from banatie.snippets import render as snippets

router = APIRouter(prefix="/api/v1/images", tags=["images"], responses=ERROR_RESPONSES)


@router.post("/upload", status_code=201, responses=errors(409, 429))
async def upload_image(
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    file: Annotated[UploadFile, File(description="PNG, JPEG or WebP, at most 5 MB")],
    alias: Annotated[str | None, Form()] = None,
    flow_id: Annotated[str | None, Form(alias="flowId")] = None,
    flow_alias: Annotated[str | None, Form(alias="flowAlias")] = None,
    meta: Annotated[str | None, Form(description="a JSON object")] = None,
    namespace: Annotated[
        str | None, Form(description="a namespace slug: the image belongs to it")
    ] = None,
) -> Envelope[ImageAliasResult]:
    # Read one byte past the limit so an oversize file is refused without buffering all of it.
    data = await file.read(runtime.settings.max_upload_bytes + 1)
    image, moved_from = await service.upload(
        runtime,
        session,
        project,
        data=data,
        filename=file.filename,
        alias=alias or None,
        flow_id=flow_id or None,
        flow_alias=flow_alias or None,
        meta=service.parse_meta(meta, runtime.settings.max_meta_bytes),
        namespace=namespace or None,
    )
    return ok(
        ImageAliasResult(
            image=present_image(image, project, runtime.settings), alias_moved_from=moved_from
        )
    )


@router.get("")
async def list_images(
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    paging: PageQuery,
    flow_id: Annotated[str | None, Query(alias="flowId")] = None,
    source: Literal["generated", "uploaded", "openai"] | None = None,
    namespace: NamespaceQuery = None,
) -> ListEnvelope[ImageOut]:
    images, total = await service.list_images(
        session, project, paging, flow_id=flow_id, source=source, namespace=namespace
    )
    items = [present_image(image, project, runtime.settings) for image in images]
    return page(items, total=total, at=paging)


@router.get("/{ref}")
async def get_image(
    image: ImageDep, runtime: RuntimeDep, project: ProjectDep
) -> Envelope[ImageOut]:
    return ok(present_image(image, project, runtime.settings))


@router.get("/{ref}/snippets")
async def image_snippets(
    image: ImageDep, runtime: RuntimeDep, project: ProjectDep
) -> Envelope[list[snippets.Snippet]]:
    """Working code that fetches and places this image (cURL, Python and JS SDKs, HTML)."""
    out = present_image(image, project, runtime.settings)
    return ok(snippets.for_image(snippets.where(runtime.settings, project), out))


@router.put("/{ref}", responses=errors(409))
async def update_image(
    ref: str, changes: ImageUpdate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ImageOut]:
    image = await service.resolve_ref(session, project, ref)
    image = await service.update(
        runtime.delivery, session, image, changes, max_meta_bytes=runtime.settings.max_meta_bytes
    )
    return ok(present_image(image, project, runtime.settings))


@router.put("/{ref}/alias", responses=errors(409))
async def set_image_alias(
    ref: str, body: AliasAssignment, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ImageAliasResult]:
    image = await service.resolve_ref(session, project, ref)
    if body.alias is not None and not body.alias.strip():
        raise ValidationError("alias must not be empty; send null to remove it")
    moved_from = await service.set_alias(runtime.delivery, session, image, body.alias)
    return ok(
        ImageAliasResult(
            image=present_image(image, project, runtime.settings), alias_moved_from=moved_from
        )
    )


@router.delete("/{ref}")
async def delete_image(
    image: ImageDep, runtime: RuntimeDep, session: SessionDep
) -> Envelope[DeletedImage]:
    image_id = image.id
    await service.delete(runtime.image_cleanup, session, image)
    return ok(DeletedImage(id=image_id))
