"""Live URLs: the public `GET /cdn/{org}/{project}/live/{scope}` and `/api/v1/live/…`."""

from __future__ import annotations

import logging
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response

from banatie.accounts.models import Project
from banatie.delivery import service as delivery
from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.errors import ApiError, NotFound, outage
from banatie.images import service as images
from banatie.images.aliases import is_uuid
from banatie.images.models import Image
from banatie.images.presenters import present_image
from banatie.live import links, repository, service, signing
from banatie.live.cache_key import LiveRequest, normalize_scope, parse_live_request
from banatie.live.client_ip import passed_on
from banatie.live.fastpath import TRANSFORM, cache_headers, etag_matches, read_original
from banatie.live.models import LiveEntry, LiveScope, LiveSettings
from banatie.live.refusal import refusal
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
from banatie.live.state import CachedImage
from banatie.providers.errors import ProviderError
from banatie.quota.deps import generation_rate_limit
from banatie.runtime import Runtime
from banatie.schemas import (
    ERROR_RESPONSES,
    IMAGE_CONTENT,
    Envelope,
    ListEnvelope,
    Offset,
    errors,
    ok,
    page,
)
from banatie.storage.base import BlobNotFound
from banatie.validation import check_meta

log = logging.getLogger(__name__)

cdn_router = APIRouter(prefix="/cdn", tags=["live"])
router = APIRouter(prefix="/api/v1/live", tags=["live"], responses=ERROR_RESPONSES)


# -- the live URL --------------------------------------------------------------------------


def _refusal(description: str) -> dict[str, Any]:
    """A refusal: the error envelope as JSON, or an SVG saying why to clients that want images."""
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        },
    }


@cdn_router.head("/{org}/{project}/live/{scope}", include_in_schema=False)
@cdn_router.get(
    "/{org}/{project}/live/{scope}",
    response_class=Response,
    # The query is parsed by `parse_live_request` (a bad value is answered like every other
    # refusal: an image or JSON, no-store); the parameters are listed here for the docs only.
    openapi_extra={
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in (
                ("prompt", "what to draw, in any language (required)"),
                ("aspectRatio", "1:1 (default), 16:9, 3:2, … (the active model's, GET /api/info)"),
                ("imageSize", "the model's default, or 512, 1K, 2K, 4K where it offers them"),
                ("template", "general (default), photorealistic, comic, …"),
                ("autoEnhance", "true (default) or false"),
                ("namespace", "a namespace slug"),
                ("w", "width of a variant; every RIAPI parameter of image URLs works"),
                ("format", "auto, avif, webp, jpeg or png"),
                ("sig", "signature of a signed live URL (with exp)"),
            )
        ]
    },
    responses={
        200: {
            "description": "the image (X-Cache-Status: HIT|MISS)",
            "content": IMAGE_CONTENT,
        },
        304: {"description": "not modified (If-None-Match)"},
        **{
            status: _refusal(text)
            for status, text in (
                (400, "a parameter is wrong (VALIDATION_ERROR)"),
                (403, "referrer, signature or scope refuses new images"),
                (404, "no such project or scope"),
                (422, "the provider refused the prompt (CONTENT_BLOCKED)"),
                (429, "client IP, scope or project quota refuses new images"),
                (502, "the provider failed (PROVIDER_ERROR)"),
                (503, "a dependency is unavailable; retry later"),
                (504, "the image is taking too long (LIVE_GENERATION_TIMEOUT)"),
            )
        },
    },
)
async def live_image(org: str, project: str, scope: str, request: Request) -> Response:
    """The image for `prompt` (and `aspectRatio`, `template`, `autoEnhance`, `namespace`),
    generated on the first request and served from the cache ever after. No API key: the URL
    is public by design. Transformation parameters (`w`, `h`, `mode`, `format`, …) select a
    variant of the cached image and never cause a second generation. A refusal answers with
    its status, `Cache-Control: no-store`, and an SVG that says why when the client accepts
    images (JSON otherwise)."""
    rt: Runtime = request.app.state.runtime
    aspect_ratio = "1:1"
    try:
        params = request.query_params
        live = parse_live_request(
            scope,
            params,
            capabilities=await rt.synthesizer.capabilities(),
            max_prompt_chars=rt.settings.max_prompt_chars,
        )
        aspect_ratio = live.aspect_ratio
        query = params.multi_items()
        for attempt in range(2):
            outcome = await service.fetch(
                rt,
                org,
                project,
                live,
                query=query,
                referer=request.headers.get("referer"),
                peer=request.client.host if request.client else None,
                via_proxy=passed_on(request.headers),
                use_lru=attempt == 0,
                generate=request.method != "HEAD",
            )
            try:
                return await respond(rt, request, org, project, query, outcome)
            except BlobNotFound:
                # Deleted or regenerated a moment ago (maybe by another replica): look again.
                rt.live.forget(outcome.image.cache_key)
        raise NotFound("the live image was just deleted; retry", code="IMAGE_NOT_FOUND")
    except Exception as exc:
        if not isinstance(exc, ApiError | ProviderError) and outage(exc) is None:
            log.exception("live URL failed", exc_info=exc)
        return refusal(
            exc,
            accept=request.headers.get("accept"),
            aspect_ratio=aspect_ratio,
            head=request.method == "HEAD",
        )


async def respond(
    rt: Runtime,
    request: Request,
    org: str,
    project: str,
    query: list[tuple[str, str]],
    outcome: service.Outcome,
) -> Response:
    image: CachedImage = outcome.image
    transform = [(name, value) for name, value in query if name.strip().lower() in TRANSFORM]
    if transform:
        return await _variant(rt, request, org, project, transform, outcome)
    headers = cache_headers(rt, image, outcome.cache)
    if outcome.rate is not None:
        headers.update(outcome.rate.headers())
    etag = f'"{image.file_hash}"'
    headers["ETag"] = etag
    headers["Last-Modified"] = format_datetime(image.created_at, usegmt=True)
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(image.size_bytes)
        return Response(status_code=200, headers=headers, media_type=image.mime_type)
    data = await read_original(rt, image)
    return Response(content=data, headers=headers, media_type=image.mime_type)


async def _variant(
    rt: Runtime,
    request: Request,
    org: str,
    project: str,
    transform: list[tuple[str, str]],
    outcome: service.Outcome,
) -> Response:
    """A transformed live image is the cached image's variant, served by delivery exactly as
    `/cdn/{org}/{project}/img/{imageId}?{transform}` would be (variant cache, `format=auto`
    negotiation, limits on unsigned variants); only the caching policy is the live URL's."""
    reply = await delivery.deliver(
        rt,
        delivery.DeliveryRequest(
            method=request.method,
            org=org,
            project=project,
            ref=outcome.image.image_id,
            query=transform,
            headers={
                name: value
                for name, value in request.headers.items()
                if name in delivery.REQUEST_HEADERS
            },
        ),
    )
    headers = {**reply.headers, **cache_headers(rt, outcome.image, outcome.cache)}
    if outcome.rate is not None:
        headers.update(outcome.rate.headers())
    if reply.media_type is not None and reply.status == 200:
        headers["Content-Type"] = reply.media_type
    if request.method == "HEAD" or reply.status == 304:
        return Response(status_code=reply.status, headers=headers)
    return Response(content=reply.body, status_code=reply.status, headers=headers)


# -- presenting ----------------------------------------------------------------------------


def _scope_url(rt: Runtime, project: Project, slug: str) -> str:
    path = signing.live_path(project.organization.slug, project.slug, slug)
    return rt.settings.delivery_base_url + path


def _entry_request(entry: LiveEntry, scope: str) -> LiveRequest:
    return LiveRequest(
        scope=scope,
        prompt=entry.prompt,
        aspect_ratio=entry.aspect_ratio,
        template=entry.template or "general",
        auto_enhance=entry.auto_enhance,
        namespace=entry.namespace,
        image_size=entry.image_size,
    )


def _present_scope(
    rt: Runtime, project: Project, scope: LiveScope, used: int, last: datetime | None
) -> ScopeOut:
    return ScopeOut(
        slug=scope.slug,
        allow_new_generations=scope.allow_new_generations,
        new_generations_limit=scope.new_generations_limit,
        current_generations=used,
        remaining_generations=max(0, scope.new_generations_limit - used),
        last_generated_at=last,
        live_url=_scope_url(rt, project, scope.slug),
        meta=dict(scope.meta or {}),
        created_at=scope.created_at,
        updated_at=scope.updated_at,
    )


def _present_entry(
    rt: Runtime, project: Project, scope: str, entry: LiveEntry, image: Image | None
) -> LiveImageOut:
    live = _entry_request(entry, scope)
    return LiveImageOut(
        id=entry.id,
        scope=scope,
        status=entry.status,
        prompt=entry.prompt,
        aspect_ratio=entry.aspect_ratio,
        template=live.template,
        auto_enhance=entry.auto_enhance,
        namespace=entry.namespace,
        live_url=_scope_url(rt, project, scope) + "?" + urlencode(live.query(), quote_via=quote),
        generation_id=entry.generation_id,
        image_id=entry.image_id,
        image=present_image(image, project, rt.settings) if image is not None else None,
        error_code=entry.error_code,
        error_message=entry.error_message,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


def _present_settings(
    rt: Runtime, row: LiveSettings | None, secret: str | None = None
) -> LiveSettingsOut:
    rules = service.policy(row, rt)
    return LiveSettingsOut(
        allowed_referrers=list(rules.allowed_referrers),
        require_signature=rules.require_signature,
        has_signing_secret=rules.signing_secret is not None,
        signing_secret=secret,
        ip_rate_limit=rules.ip_rate_limit,
        auto_create_scopes=rules.auto_create_scopes,
        default_allow_new_generations=rules.default_allow_new_generations,
        default_new_generations_limit=rules.default_new_generations_limit,
    )


async def _scope_out(
    rt: Runtime, session: SessionDep, project: Project, scope: LiveScope
) -> ScopeOut:
    used, last = (await repository.scope_stats(session, [scope.id])).get(scope.id, (0, None))
    return _present_scope(rt, project, scope, used, last)


def _slug(slug: str) -> str:
    return normalize_scope(slug)


# -- scopes --------------------------------------------------------------------------------


@router.post("/scopes", status_code=201, responses=errors(409))
async def create_scope(
    body: ScopeCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ScopeOut]:
    scope = await service.create_scope(
        runtime,
        session,
        project,
        _slug(body.slug),
        allow_new_generations=body.allow_new_generations,
        new_generations_limit=body.new_generations_limit,
        meta=body.meta,
    )
    return ok(_present_scope(runtime, project, scope, 0, None))


@router.get("/scopes")
async def list_scopes(
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> ListEnvelope[ScopeOut]:
    scopes, total = await repository.list_scopes(session, project.id, limit=limit, offset=offset)
    stats = await repository.scope_stats(session, [scope.id for scope in scopes])
    items = [
        _present_scope(runtime, project, scope, *stats.get(scope.id, (0, None))) for scope in scopes
    ]
    return page(items, total=total, limit=limit, offset=offset)


@router.get("/scopes/{slug}")
async def get_scope(
    slug: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ScopeOut]:
    scope = await service.get_scope(session, project, _slug(slug))
    return ok(await _scope_out(runtime, session, project, scope))


@router.put("/scopes/{slug}")
async def update_scope(
    slug: str, body: ScopeUpdate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[ScopeOut]:
    scope = await service.get_scope(session, project, _slug(slug))
    if body.allow_new_generations is not None:
        scope.allow_new_generations = body.allow_new_generations
    if body.new_generations_limit is not None:
        scope.new_generations_limit = body.new_generations_limit
    if body.meta is not None:
        scope.meta = check_meta(body.meta, runtime.settings.max_meta_bytes)
    await session.commit()
    return ok(await _scope_out(runtime, session, project, scope))


@router.delete("/scopes/{slug}")
async def delete_scope(
    slug: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedScope]:
    scope = await service.get_scope(session, project, _slug(slug))
    deleted = await service.delete_scope(runtime, session, project, scope)
    return ok(DeletedScope(slug=scope.slug, images_deleted=deleted))


@router.get("/scopes/{slug}/images")
async def list_scope_images(
    slug: str,
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    status: Literal["ready", "pending", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> ListEnvelope[LiveImageOut]:
    scope = await service.get_scope(session, project, _slug(slug))
    rows, total = await repository.list_entries(
        session, scope.id, status=status, limit=limit, offset=offset
    )
    items = [_present_entry(runtime, project, scope.slug, entry, image) for entry, image in rows]
    return page(items, total=total, limit=limit, offset=offset)


async def _find_entry(session: SessionDep, scope: LiveScope, ref: str) -> LiveEntry:
    """A live image by its image id or its entry id."""
    entry = None
    if is_uuid(ref):
        entry = await repository.entry_by_image(session, scope.id, ref)
        if entry is None:
            found = await session.get(LiveEntry, ref)
            entry = found if found is not None and found.scope_id == scope.id else None
    if entry is None:
        raise NotFound(
            f"image {ref!r} not found in live scope {scope.slug!r}", code="IMAGE_NOT_FOUND"
        )
    return entry


@router.delete("/scopes/{slug}/images/{image_id}")
async def delete_scope_image(
    slug: str, image_id: str, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedLiveImage]:
    """Delete one live image: its URL generates a new image on its next request."""
    scope = await service.get_scope(session, project, _slug(slug))
    entry = await _find_entry(session, scope, image_id)
    out = DeletedLiveImage(id=entry.id, image_id=entry.image_id)
    await service.delete_image(runtime, session, entry)
    return ok(out)


@router.post(
    "/scopes/{slug}/regenerate",
    dependencies=[Depends(generation_rate_limit)],
    responses=errors(409, 422, 429, 502, 504),
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
    scope = await service.get_scope(session, project, _slug(slug))
    single = body is not None and bool(body.image_id)
    if body is not None and body.image_id:
        entries = [await _find_entry(session, scope, body.image_id)]
    else:
        entries = [
            e for e in await repository.scope_entries(session, scope.id) if e.status == "ready"
        ]
    # A failure rolls the session back, which expires what it loaded: keep plain values.
    targets = [(e.cache_key, e.image_id) for e in entries]
    scope_slug = scope.slug
    done: list[LiveImageOut] = []
    failed: list[RegenerateFailure] = []
    for cache_key, image_id in targets:
        try:
            entry = await repository.get_entry(session, cache_key)
            if entry is None:
                raise NotFound(
                    f"image {image_id!r} not found in live scope {scope_slug!r}",
                    code="IMAGE_NOT_FOUND",
                )
            fresh = await service.regenerate_entry(runtime, session, project, entry)
        except (ApiError, ProviderError) as exc:
            if single:
                raise
            failed.append(RegenerateFailure(image_id=image_id, code=exc.code, message=exc.message))
            if exc.status == 429:  # quota or rate limit: the rest would be refused too
                break
            await session.refresh(project)  # the failure's rollback expired it
            continue
        image = (
            await images.resolve_ref(session, project, fresh.image_id) if fresh.image_id else None
        )
        done.append(_present_entry(runtime, project, scope_slug, fresh, image))
    if not done and failed and all(f.code == "GENERATION_IN_PROGRESS" for f in failed):
        # Another request is regenerating all of them: nothing to add to it.
        raise ApiError(
            f"the images of live scope {scope_slug!r} are being regenerated already",
            code="GENERATION_IN_PROGRESS",
            status=409,
        )
    return ok(RegenerateOut(regenerated=done, failed=failed))


# -- settings and URL building --------------------------------------------------------------


@router.get("/settings")
async def get_settings(
    runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[LiveSettingsOut]:
    return ok(_present_settings(runtime, await repository.get_settings(session, project.id)))


@router.put("/settings")
async def put_settings(
    body: LiveSettingsUpdate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[LiveSettingsOut]:
    """Abuse control for this project's live URLs: allowed referrer domains, signed URLs
    (the signing secret is shown once, when made), the per-IP miss limit, scope defaults."""
    changes = body.model_dump(exclude_unset=True, exclude={"rotate_signing_secret"})
    row, secret = await service.update_settings(
        session, project, changes, rotate_secret=body.rotate_signing_secret
    )
    return ok(_present_settings(runtime, row, secret))


@router.post("/urls")
async def build_url(
    body: LiveUrlRequest, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[LiveUrlOut]:
    """Build a live URL (signed with the project's secret when it has one) and its `<img>`."""
    return ok(await links.build(runtime, session, project, body))
