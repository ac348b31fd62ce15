"""Usage against the plan, Flows as timelines, Namespaces and Live scopes of a project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from banatie.console.context import ProjectPageDep
from banatie.console.web import ConsoleRoute, CsrfDep
from banatie.deps import RuntimeDep, SessionDep
from banatie.errors import ApiError
from banatie.flows import repository as flow_repository
from banatie.generation import repository as generation_repository
from banatie.generation.present import present_generation
from banatie.images import repository as image_repository
from banatie.images import service as images
from banatie.live import links, signing
from banatie.live import repository as live_repository
from banatie.live.schemas import LiveUrlRequest
from banatie.namespaces import repository as namespace_repository
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
    rows, total = await flow_repository.list_flows(session, page.project.id, limit=30, offset=0)
    stats = await flow_repository.stats(session, [row.id for row in rows])
    steps = []
    if flow:
        generations, _ = await generation_repository.list_generations(
            session, page.project.id, flow_id=flow, status=None, limit=100, offset=0
        )
        steps = [
            await present_generation(runtime, session, page.project, generation)
            for generation in reversed(generations)  # oldest first, as the flow went
        ]
    return page.render(
        request,
        "flows.html",
        page="flows",
        flows=rows,
        stats=stats,
        total=total,
        selected=flow,
        steps=steps,
    )


@router.get("/namespaces")
async def namespaces(
    request: Request, page: ProjectPageDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    rows, _ = await namespace_repository.list_namespaces(
        session, page.project.id, limit=100, offset=0
    )
    previews = {}
    for row in rows:
        found, count = await image_repository.list_images(
            session,
            page.project.id,
            flow_id=None,
            source=None,
            limit=PREVIEW_COUNT,
            offset=0,
            namespace=row.slug,
        )
        previews[row.slug] = (
            [images.present(image, page.project, runtime.settings) for image in found],
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
            images.present(image, page.project, runtime.settings) for _, image in found if image
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
