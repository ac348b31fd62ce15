"""Live scopes, live images and live settings: `/api/v1/live/…` (the live URL itself is
`banatie.live.http`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.live import admin, links, present
from banatie.live.cache_key import normalize_scope
from banatie.live.policy import get_settings as settings_of
from banatie.live.policy import update_settings
from banatie.live.schemas import (
    DeletedLiveImage,
    DeletedScope,
    LiveImageOut,
    LiveSettingsOut,
    LiveSettingsUpdate,
    LiveUrlOut,
    LiveUrlRequest,
    RegenerateFailure,
    RegenerateOut,
    RegenerateRequest,
    ScopeCreate,
    ScopeOut,
    ScopeUpdate,
)
from banatie.path_rows import ScopeDep
from banatie.quota.deps import GENERATES
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, PageQuery, errors, ok, page

router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=ERROR_RESPONSES)


# -- scopes --------------------------------------------------------------------------------


@router.post("/scopes", status_code=201, responses=errors(409))
async def create_scope(
    body: ScopeCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ScopeOut]:
    scope = await admin.create_scope(
        runtime,
        session,
        project,
        normalize_scope(body.slug),
        allow_new_generations=body.allow_new_generations,
        new_generations_limit=body.new_generations_limit,
        meta=body.meta,
    )
    return ok(present.scope(runtime, project, admin.ScopeView(scope)))


@router.get("/scopes")
async def list_scopes(
    runtime: RuntimeDep, session: SessionDep, project: ProjectDep, paging: PageQuery
) -> ListEnvelope[ScopeOut]:
    views, total = await admin.list_scopes(session, project, paging)
    items = [present.scope(runtime, project, view) for view in views]
    return page(items, total=total, at=paging)


@router.get("/scopes/{slug}")
async def get_scope(
    scope: ScopeDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ScopeOut]:
    return ok(present.scope(runtime, project, await admin.view(session, scope)))


@router.put("/scopes/{slug}")
async def update_scope(
    slug: str, body: ScopeUpdate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ScopeOut]:
    scope = await admin.find_scope(session, project, slug)
    scope = await admin.update_scope(runtime, session, scope, body)
    return ok(present.scope(runtime, project, await admin.view(session, scope)))


@router.delete("/scopes/{slug}")
async def delete_scope(
    scope: ScopeDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedScope]:
    slug = scope.slug
    deleted = await admin.delete_scope(runtime, session, project, scope)
    return ok(DeletedScope(slug=slug, images_deleted=deleted))


@router.get("/scopes/{slug}/images")
async def list_scope_images(
    slug: str,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    paging: PageQuery,
    status: Literal["ready", "pending", "failed"] | None = None,
) -> ListEnvelope[LiveImageOut]:
    scope = await admin.find_scope(session, project, slug)
    rows, total = await admin.list_images(session, scope, paging, status=status)
    items = [present.entry(runtime, project, scope.slug, entry, image) for entry, image in rows]
    return page(items, total=total, at=paging)


@router.delete("/scopes/{slug}/images/{image_id}")
async def delete_scope_image(
    scope: ScopeDep, image_id: str, runtime: RuntimeDep, session: SessionDep
) -> Envelope[DeletedLiveImage]:
    """Delete one live image: its URL generates a new image on its next request."""
    entry = await admin.find_image(session, scope, image_id)
    out = DeletedLiveImage(id=entry.id, image_id=entry.image_id)
    await admin.delete_image(runtime, session, entry)
    return ok(out)


@router.post(
    "/scopes/{slug}/regenerate",
    **GENERATES,
)
async def regenerate_scope(
    slug: str,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    body: RegenerateRequest | None = None,
) -> Envelope[RegenerateOut]:
    """Regenerate one image (`imageId`) or every ready image of the scope. Each regeneration
    is charged; the live URLs move to the new images and the old ones are deleted."""
    scope = await admin.find_scope(session, project, slug)
    scope_slug = scope.slug
    done, failed = await admin.regenerate_scope(
        runtime, session, project, scope, body.image_id if body is not None else None
    )
    return ok(
        RegenerateOut(
            regenerated=[
                present.entry(runtime, project, scope_slug, entry, image) for entry, image in done
            ],
            failed=[
                RegenerateFailure(image_id=f.image_id, code=f.code, message=f.message)
                for f in failed
            ],
        )
    )


# -- settings and URL building --------------------------------------------------------------


@router.get("/settings")
async def get_settings(
    runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[LiveSettingsOut]:
    return ok(present.settings(runtime, await settings_of(session, project)))


@router.put("/settings")
async def put_settings(
    body: LiveSettingsUpdate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[LiveSettingsOut]:
    """Abuse control for this project's live URLs: allowed referrer domains, signed URLs
    (the signing secret is shown once, when made), the per-IP miss limit, scope defaults."""
    changes = body.model_dump(exclude_unset=True, exclude={"rotate_signing_secret"})
    row, secret = await update_settings(
        session, project, changes, rotate_secret=body.rotate_signing_secret
    )
    return ok(present.settings(runtime, row, secret))


@router.post("/urls")
async def build_url(
    body: LiveUrlRequest, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[LiveUrlOut]:
    """Build a live URL (signed with the project's secret when it has one) and its `<img>`."""
    return ok(await links.build(runtime, session, project, body))
