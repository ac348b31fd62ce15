"""The Playground (generate, with snippets), the Gallery and an image's page. Each action calls
the services the REST routes call, for the project of the URL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import Response

from banatie.console.context import ProjectPage, ProjectPageDep, project_page
from banatie.console.web import ConsoleRoute, CsrfDep, FormText, PageDep, get_user, redirect
from banatie.db.paging import PageRequest
from banatie.errors import ValidationError
from banatie.generation import service as generations
from banatie.generation.presenters import present_result
from banatie.images import service as images
from banatie.images.presenters import present_image
from banatie.images.schemas import FocalPoint, ImageUpdate
from banatie.namespaces import service as namespaces
from banatie.namespaces.schemas import as_filter
from banatie.providers.ports import TEMPLATES
from banatie.quota import service as quota
from banatie.snippets import render as snippets
from banatie.users import service as users

router = APIRouter(
    prefix="/console/{org}/{project}", route_class=ConsoleRoute, include_in_schema=False
)
# One fixed path (outside `/console/{org}/{project}`) so that the edge's body limit can allow
# the playground's reference upload (banatie.app); the project travels in the form.
GENERATE_PATH = "/console/playground/generate"
generate_router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
GALLERY_PAGE_SIZE = 24
SOURCES = ("generated", "uploaded", "openai")


async def _aliased(page: ProjectPage) -> list[str]:
    """The project's aliases for the reference picker (from its latest images)."""
    rows, _ = await images.list_images(page.session, page.project, PageRequest(100, 0))
    return sorted(image.alias for image in rows if image.alias)


async def _namespace_slugs(page: ProjectPage) -> list[str]:
    rows, _ = await namespaces.list_namespaces(page.session, page.project, PageRequest(100, 0))
    return [row.slug for row in rows]


@router.get("/playground")
async def playground(page: ProjectPageDep, welcome: str | None = None) -> Response:
    capabilities = await page.runtime.synthesizer.capabilities()
    ratios = list(capabilities.sizes.get(capabilities.default_size, {}).keys()) or ["1:1"]
    return page.render(
        "playground.html",
        page="playground",
        welcome=welcome,
        ratios=ratios,
        templates_=TEMPLATES,
        namespaces=await _namespace_slugs(page),
        aliases=await _aliased(page),
        has_keys=bool(await users.project_keys(page.session, page.project)),
        generate_path=GENERATE_PATH,
    )


@generate_router.post(GENERATE_PATH, dependencies=[CsrfDep])
async def generate(
    console: PageDep,
    org: FormText,
    project: FormText,
    prompt: FormText = "",
    aspect_ratio: FormText = "",
    template: FormText = "",
    namespace: FormText = "",
    reference_images: Annotated[list[str] | None, Form()] = None,
    reference_upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The playground's Generate: an HTML fragment with the result, its snippets and the image
    with its focal point (errors come back as the API's message, shown in place)."""
    session, runtime = console.session, console.runtime
    membership = await users.membership_in(session, await get_user(console.viewer), org)
    page = await project_page(console, membership, project)
    refs = [ref for ref in reference_images or [] if ref.strip()]
    # The same order of checks and charges as POST /api/v1/generations.
    await quota.count_generation_request(
        session, page.project, runtime.settings, runtime.rate_limiter
    )
    if reference_upload is not None and reference_upload.filename:
        data = await reference_upload.read(runtime.settings.max_upload_bytes + 1)
        uploaded, _ = await images.upload(
            runtime,
            session,
            page.project,
            data=data,
            filename=reference_upload.filename,
            alias=None,
            flow_id=None,
            flow_alias=None,
            meta={},
        )
        refs.append(uploaded.id)
    result = await generations.create(
        runtime,
        session,
        page.project,
        generations.GenerationInput(
            prompt=prompt,
            aspect_ratio=aspect_ratio or None,
            template=template or None,
            namespace=namespace or None,
            reference_images=refs,
            source="console",
        ),
        flow_id=generations.NEW_FLOW,
    )
    out = await present_result(session, runtime.settings, page.project, result)
    return page.fragment(
        "_generation.html",
        201,
        generation=out,
        image=out.output_image,
        snippets=snippets.for_generation(snippets.where(runtime.settings, page.project), out),
        base=page.base,
    )


@router.get("/gallery")
async def gallery(
    page: ProjectPageDep,
    flow: str | None = None,
    alias: str | None = None,
    namespace: str | None = None,
    source: str | None = None,
    offset: int = 0,
) -> Response:
    if source and source not in SOURCES:
        raise ValidationError(f"source must be one of {', '.join(SOURCES)}")
    offset = max(0, offset)
    if alias and alias.strip():
        rows = [await images.resolve_ref(page.session, page.project, alias.strip())]
        total = 1
    else:
        rows, total = await images.list_images(
            page.session,
            page.project,
            PageRequest(GALLERY_PAGE_SIZE, offset),
            flow_id=flow or None,
            source=source or None,
            namespace=as_filter(namespace),
        )
    return page.render(
        "gallery.html",
        page="gallery",
        images=[present_image(row, page.project, page.runtime.settings) for row in rows],
        total=total,
        offset=offset,
        page_size=GALLERY_PAGE_SIZE,
        filters={
            "flow": flow or "",
            "alias": alias or "",
            "namespace": namespace or "",
            "source": source or "",
        },
        sources=SOURCES,
        namespaces=await _namespace_slugs(page),
    )


async def _image_page(
    page: ProjectPage, ref: str, status_code: int = 200, **context: object
) -> Response:
    image = await images.resolve_ref(page.session, page.project, ref)
    settings = page.runtime.settings
    out = present_image(image, page.project, settings)
    return page.render(
        "image.html",
        status_code,
        page="gallery",
        image=out,
        snippets=snippets.for_image(snippets.where(settings, page.project), out),
        modes=("max", "pad", "crop", "stretch"),
        formats=("auto", "webp", "avif", "jpeg", "png"),
        **context,
    )


@router.get("/images/{ref}")
async def image_page(ref: str, page: ProjectPageDep) -> Response:
    return await _image_page(page, ref)


@router.post("/images/{ref}/alias", dependencies=[CsrfDep])
async def set_alias(ref: str, page: ProjectPageDep, alias: FormText = "") -> Response:
    image = await images.resolve_ref(page.session, page.project, ref)
    alias_or_none = alias.strip() or None
    moved_from = await images.set_alias(page.runtime.delivery, page.session, image, alias_or_none)
    notice = f"Alias set to {image.alias}." if image.alias else "Alias removed."
    if moved_from:
        notice += f" It moved from image {moved_from}."
    return await _image_page(page, image.id, notice=notice)


@router.post("/images/{ref}/delete", dependencies=[CsrfDep])
async def delete_image(ref: str, page: ProjectPageDep) -> Response:
    image = await images.resolve_ref(page.session, page.project, ref)
    await images.delete(page.runtime.image_cleanup, page.session, image)
    return redirect(f"{page.base}/gallery")


@router.post("/images/{ref}/focal", dependencies=[CsrfDep])
async def set_focal_point(
    ref: str, page: ProjectPageDep, x: FormText = "", y: FormText = ""
) -> Response:
    try:
        point = FocalPoint(x=float(x), y=float(y))
    except ValueError as exc:
        raise ValidationError("the focal point is x and y between 0 and 1") from exc
    image = await images.resolve_ref(page.session, page.project, ref)
    await images.update(
        page.runtime.delivery,
        page.session,
        image,
        ImageUpdate(focal_point=point),
        max_meta_bytes=page.runtime.settings.max_meta_bytes,
    )
    return page.fragment(
        "_notice.html", message=f"Focal point saved: x {point.x:.2f}, y {point.y:.2f}."
    )
