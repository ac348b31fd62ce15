"""`/cdn/{org}/{project}/img/{id | @alias}`: the CDN origin for stored images and their variants.

Requests are normally answered by :class:`banatie.delivery.fastpath.DeliveryFastPath`, plain
ASGI in front of the FastAPI router; this route documents the endpoint in OpenAPI and answers
when the fast path is not installed. Both call :func:`banatie.delivery.service.deliver`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from banatie.delivery import service
from banatie.deps import RuntimeDep

router = APIRouter(prefix="/cdn", tags=["delivery"])


@router.api_route("/{org}/{project}/img/{ref}", methods=["GET", "HEAD"])
async def deliver_image(
    org: str, project: str, ref: str, request: Request, runtime: RuntimeDep
) -> Response:
    """The image bytes, or a variant when transformation parameters are given: `w`/`width`,
    `h`/`height`, `mode` (max, pad, crop, stretch), `scale` (down, both, canvas), `anchor`,
    `c.gravity=x,y`, `dpr`, `format` (auto, avif, webp, jpeg, png), `quality`, `bgcolor`;
    `sig` and `exp` for signed URLs. Unknown parameters are ignored."""
    reply = await service.deliver(
        runtime,
        service.DeliveryRequest(
            method=request.method,
            org=org,
            project=project,
            ref=ref,
            query=request.query_params.multi_items(),
            headers={
                name: value
                for name, value in request.headers.items()
                if name in service.REQUEST_HEADERS
            },
        ),
    )
    if reply.media_type is not None and reply.status == 200:
        reply.headers["Content-Type"] = reply.media_type
    if request.method == "HEAD" or reply.status == 304:
        return Response(status_code=reply.status, headers=reply.headers)
    return Response(content=reply.body, status_code=reply.status, headers=reply.headers)
