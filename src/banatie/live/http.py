"""The live URL: `GET|HEAD /cdn/{org}/{project}/live/{scope}` (a warm hit never gets here:
`banatie.live.fastpath` answers it first)."""

from __future__ import annotations

import logging
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from banatie.delivery import service as delivery
from banatie.delivery.conditional import etag_matches
from banatie.errors import ApiError, outage
from banatie.images.errors import ImageNotFound
from banatie.live import service
from banatie.live.cache_key import parse_live_request
from banatie.live.client_ip import passed_on
from banatie.live.fastpath import TRANSFORM, cache_headers, read_original
from banatie.live.policy import Visit
from banatie.live.refusal import refusal
from banatie.providers.errors import ProviderError
from banatie.runtime import Runtime
from banatie.schemas import IMAGE_CONTENT
from banatie.storage.base import BlobNotFound

log = logging.getLogger(__name__)

cdn_router = APIRouter(prefix="/cdn", tags=["live"])


def _refusal(description: str) -> dict[str, Any]:
    """A refusal: the error envelope as JSON, or an SVG saying why to clients that want images."""
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}},
            "image/svg+xml": {"schema": {"type": "string"}},
        },
    }


# The query is parsed by `parse_live_request` (a bad value is answered like every other
# refusal: an image or JSON, no-store); the parameters are listed here for the docs only.
_DOCUMENTED_PARAMETERS = [
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
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the image (X-Cache-Status: HIT|MISS)", "content": IMAGE_CONTENT},
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
}


@cdn_router.head("/{org}/{project}/live/{scope}", include_in_schema=False)
@cdn_router.get(
    "/{org}/{project}/live/{scope}",
    response_class=Response,
    openapi_extra={"parameters": _DOCUMENTED_PARAMETERS},
    responses=_RESPONSES,
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
        visit = Visit(
            query=params.multi_items(),
            referer=request.headers.get("referer"),
            peer=request.client.host if request.client else None,
            via_proxy=passed_on(request.headers),
        )
        for attempt in range(2):
            outcome = await service.fetch(
                rt,
                org,
                project,
                live,
                visit,
                use_lru=attempt == 0,
                generate=request.method != "HEAD",
            )
            try:
                return await respond(rt, request, org, project, visit.query, outcome)
            except BlobNotFound:
                # Deleted or regenerated a moment ago (maybe by another replica): look again.
                rt.live.forget(outcome.image.cache_key)
        raise ImageNotFound("the live image was just deleted; retry")
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
    image = outcome.image
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
        delivery.DeliveryRequest.of(
            request.method, org, project, outcome.image.image_id, transform, request.headers.items()
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
