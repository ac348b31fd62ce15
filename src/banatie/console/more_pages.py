"""Usage against the plan, Flows as timelines, Namespaces and Live scopes of a project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from pydantic import BaseModel

from banatie.console.context import ProjectPage, ProjectPageDep
from banatie.console.web import ConsoleRoute, CsrfDep
from banatie.db.paging import PageRequest
from banatie.errors import ApiError
from banatie.flows import manage as flows_service
from banatie.flows.presenters import present_flows
from banatie.generation import service as generations
from banatie.generation.presenters import present_generations
from banatie.images import service as images
from banatie.images.presenters import present_image
from banatie.live import admin, links, signing
from banatie.live.schemas import LiveUrlRequest
from banatie.namespaces import service as namespaces_service
from banatie.providers.ports import TEMPLATES
from banatie.quota import service as quota
from banatie.quota.usage import report as usage_report

router = APIRouter(
    prefix="/console/{org}/{project}", route_class=ConsoleRoute, include_in_schema=False
)
PREVIEW_COUNT = 6


@router.get("/usage")
async def usage(page: ProjectPageDep) -> Response:
    report = await usage_report(page.session, page.project, page.runtime.settings)
    return page.render("usage.html", page="usage", usage=report)


@router.get("/flows")
async def flows(page: ProjectPageDep, flow: str | None = None) -> Response:
    session, runtime = page.session, page.runtime
    rows, total = await flows_service.list_flows(session, page.project, PageRequest(30, 0))
    steps = []
    if flow:
        found, _ = await generations.list_generations(
            session, page.project, PageRequest(100, 0), flow_id=flow
        )
        # Oldest first, as the flow went.
        steps = await present_generations(
            session, runtime.settings, page.project, list(reversed(found))
        )
    return page.render(
        "flows.html",
        page="flows",
        flows=await present_flows(session, page.project, rows),
        total=total,
        selected=flow,
        steps=steps,
    )


@router.get("/namespaces")
async def namespaces(page: ProjectPageDep) -> Response:
    session = page.session
    rows, _ = await namespaces_service.list_namespaces(session, page.project, PageRequest(100, 0))
    previews = {}
    for row in rows:
        found, count = await images.list_images(
            session, page.project, PageRequest(PREVIEW_COUNT, 0), namespace=row.slug
        )
        previews[row.slug] = (
            [present_image(image, page.project, page.runtime.settings) for image in found],
            count,
        )
    return page.render("namespaces.html", page="namespaces", namespaces=rows, previews=previews)


async def _live_page(page: ProjectPage, status_code: int = 200, **context: object) -> Response:
    session, runtime = page.session, page.runtime
    views, _ = await admin.list_scopes(session, page.project, PageRequest(100, 0))
    entries = {}
    for view in views:
        found, _ = await admin.list_images(
            session, view.scope, PageRequest(PREVIEW_COUNT, 0), status="ready"
        )
        entries[view.scope.id] = [
            present_image(image, page.project, runtime.settings) for _, image in found if image
        ]
    return page.render(
        "live.html",
        status_code,
        page="live",
        scopes=views,
        entries=entries,
        templates_=TEMPLATES,
        cdn_base=runtime.settings.delivery_base_url,
        live_path=signing.live_path,
        **context,
    )


@router.get("/live")
async def live(page: ProjectPageDep) -> Response:
    return await _live_page(page)


class LiveUrlForm(BaseModel):
    """The live URL builder's fields; an empty one is the project's default."""

    scope: str = ""
    prompt: str = ""
    aspect_ratio: str = ""
    template: str = ""


@router.post("/live/url", dependencies=[CsrfDep])
async def build_live_url(page: ProjectPageDep, form: Annotated[LiveUrlForm, Form()]) -> Response:
    """The live URL builder: the same validation and signing as POST /api/v1/live/urls."""
    try:
        wanted = LiveUrlRequest(
            scope=form.scope,
            prompt=form.prompt,
            aspect_ratio=form.aspect_ratio or None,
            template=form.template or None,
        )
        built = await links.build(page.runtime, page.session, page.project, wanted)
    except ApiError as exc:
        return await _live_page(page, exc.status, error=exc.message, form=form)
    return await _live_page(page, built=built, form=form)


@router.post("/live/{scope}/regenerate", dependencies=[CsrfDep])
async def regenerate_scope(scope: str, page: ProjectPageDep) -> Response:
    """Regenerate every ready image of a scope (each charged), as POST
    /api/v1/live/scopes/{slug}/regenerate does; the live URLs move to the new images."""
    session, runtime = page.session, page.runtime
    await quota.count_generation_request(
        session, page.project, runtime.settings, runtime.rate_limiter
    )
    found = await admin.find_scope(session, page.project, scope)
    done, failed = await admin.regenerate_scope(runtime, session, page.project, found, None)
    notice = f"Regenerated {len(done)} image{'' if len(done) == 1 else 's'} of {found.slug}."
    error = "; ".join(f"{f.image_id}: {f.message}" for f in failed) or None
    return await _live_page(page, notice=notice, error=error)
