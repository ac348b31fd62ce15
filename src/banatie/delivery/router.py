"""`/cdn/{org}/{project}/img/{id | @alias}`: the CDN origin for stored images and their variants.

Requests are normally answered by :class:`banatie.delivery.fastpath.DeliveryFastPath`, plain
ASGI in front of the FastAPI router; this route documents the endpoint in OpenAPI and answers
when the fast path is not installed. Both call :func:`banatie.delivery.service.deliver`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from banatie.delivery import service
from banatie.deps import RuntimeDep
from banatie.schemas import IMAGE_CONTENT, error_response_model, errors

router = APIRouter(prefix="/cdn", tags=["delivery"])

DOCUMENTED: dict[str, Any] = {
    "response_class": Response,
    "responses": {
        200: {
            "description": "the image or variant (ETag, Last-Modified, Cache-Control)",
            "content": IMAGE_CONTENT,
        },
        304: {"description": "not modified (If-None-Match / If-Modified-Since)"},
        **errors(400, 404),
        403: error_response_model("VARIANT_LIMIT_EXCEEDED: too many distinct unsigned variants"),
        422: error_response_model("TRANSFORM_FAILED: the stored original cannot be decoded"),
    },
}


@router.get("/{org}/{project}/img/{ref}", **DOCUMENTED)
async def deliver_image(
    org: str, project: str, ref: str, request: Request, runtime: RuntimeDep
) -> Response:
    """The image bytes, or a variant when transformation parameters are given: `w`/`width`,
    `h`/`height`, `mode` (max, pad, crop, stretch), `scale` (down, both, canvas), `anchor`,
    `c.gravity=x,y`, `dpr`, `format` (auto, avif, webp, jpeg, png), `quality`, `bgcolor`;
    `sig` and `exp` for signed URLs. Unknown parameters are ignored."""
    reply = await service.deliver(
        runtime,
        service.DeliveryRequest.of(
            request.method,
            org,
            project,
            ref,
            request.query_params.multi_items(),
            request.headers.items(),
        ),
    )
    if reply.media_type is not None and reply.status == 200:
        reply.headers["Content-Type"] = reply.media_type
    if request.method == "HEAD" or reply.status == 304:
        return Response(status_code=reply.status, headers=reply.headers)
    return Response(content=reply.body, status_code=reply.status, headers=reply.headers)


@router.head("/{org}/{project}/img/{ref}", **DOCUMENTED)
async def deliver_image_head(
    org: str, project: str, ref: str, request: Request, runtime: RuntimeDep
) -> Response:
    """The headers `GET` would send (`Content-Length`, `ETag`, …), without the body."""
    return await deliver_image(org, project, ref, request, runtime)
