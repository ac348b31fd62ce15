"""Usage against the plan, Flows as timelines, Namespaces and Live scopes of a project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from banatie.console.context import ProjectPageDep
from banatie.console.web import ConsoleRoute, CsrfDep
from banatie.deps import RuntimeDep, SessionDep
from banatie.errors import ApiError
from banatie.flows import manage as flows_service
from banatie.flows.presenters import present_flows
from banatie.generation import service as generations
from banatie.generation.presenters import present_generations
from banatie.images import service as images
from banatie.images.presenters import present_image
from banatie.live import links, signing
from banatie.live import repository as live_repository
from banatie.live.schemas import LiveUrlRequest
from banatie.namespaces import service as namespaces_service
from banatie.providers.ports import TEMPLATES
from banatie.quota.usage import report as usage_report

router = APIRouter(
    prefix="/console/{org}/{project}", route_class=ConsoleRoute, include_in_schema=False
)
PREVIEW_COUNT = 6


@router.get("/usage")
async def usage(
    request: Request, page: ProjectPageDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    report = await usage_report(session, page.project, runtime.settings)
    return page.render(request, "usage.html", page="usage", usage=report)


@router.get("/flows")
async def flows(
    request: Request,
    page: ProjectPageDep,
    runtime: RuntimeDep,
    session: SessionDep,
    flow: str | None = None,
) -> Response:
    rows, total = await flows_service.list_flows(session, page.project, limit=30, offset=0)
    steps = []
    if flow:
        found, _ = await generations.list_generations(
            session, page.project, flow_id=flow, limit=100, offset=0
        )
        # Oldest first, as the flow went.
        steps = await present_generations(
            session, runtime.settings, page.project, list(reversed(found))
        )
    return page.render(
        request,
        "flows.html",
        page="flows",
        flows=await present_flows(session, page.project, rows),
        total=total,
        selected=flow,
        steps=steps,
    )


@router.get("/namespaces")
async def namespaces(
    request: Request, page: ProjectPageDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    rows, _ = await namespaces_service.list_namespaces(session, page.project, limit=100, offset=0)
    previews = {}
    for row in rows:
        found, count = await images.list_images(
            session, page.project, namespace=row.slug, limit=PREVIEW_COUNT, offset=0
        )
        previews[row.slug] = (
            [present_image(image, page.project, runtime.settings) for image in found],
            count,
        )
    return page.render(
        request, "namespaces.html", page="namespaces", namespaces=rows, previews=previews
    )


async def _live_page(
    request: Request,
    page: ProjectPageDep,
    runtime: RuntimeDep,
    session: SessionDep,
    status_code: int = 200,
    **context: object,
) -> Response:
    scopes, _ = await live_repository.list_scopes(session, page.project.id, limit=100, offset=0)
    stats = await live_repository.scope_stats(session, [scope.id for scope in scopes])
    entries = {}
    for scope in scopes:
        found, _ = await live_repository.list_entries(
            session, scope.id, status="ready", limit=PREVIEW_COUNT, offset=0
        )
        entries[scope.id] = [
            present_image(image, page.project, runtime.settings) for _, image in found if image
        ]
    return page.render(
        request,
        "live.html",
        status_code,
        page="live",
        scopes=scopes,
        stats=stats,
        entries=entries,
        templates_=TEMPLATES,
        cdn_base=runtime.settings.delivery_base_url,
        live_path=signing.live_path,
        **context,
    )


@router.get("/live")
async def live(
    request: Request, page: ProjectPageDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await _live_page(request, page, runtime, session)


@router.post("/live/url", dependencies=[CsrfDep])
async def build_live_url(
    request: Request,
    page: ProjectPageDep,
    runtime: RuntimeDep,
    session: SessionDep,
    scope: Annotated[str, Form()] = "",
    prompt: Annotated[str, Form()] = "",
    aspect_ratio: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "",
) -> Response:
    """The live URL builder: the same validation and signing as POST /api/v1/live/urls."""
    form = {"scope": scope, "prompt": prompt, "aspect_ratio": aspect_ratio, "template": template}
    try:
        built = await links.build(
            runtime,
            session,
            page.project,
            LiveUrlRequest(
                scope=scope,
                prompt=prompt,
                aspect_ratio=aspect_ratio or None,
                template=template or None,
            ),
        )
    except ApiError as exc:
        return await _live_page(
            request, page, runtime, session, exc.status, error=exc.message, form=form
        )
    return await _live_page(request, page, runtime, session, built=built, form=form)
