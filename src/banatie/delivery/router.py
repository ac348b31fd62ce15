"""`/cdn/{org}/{project}/img/{id | @alias}`: the CDN origin for stored images."""

from __future__ import annotations

from email.utils import format_datetime

from fastapi import APIRouter, Request, Response

from banatie.accounts import repository as accounts
from banatie.deps import RuntimeDep, SessionDep
from banatie.errors import NotFound
from banatie.images import repository as images
from banatie.images.aliases import is_uuid
from banatie.images.models import Image
from banatie.storage.base import BlobNotFound

router = APIRouter(prefix="/cdn", tags=["delivery"])

IMMUTABLE = "public, max-age=31536000, immutable"


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in candidates


async def find_image(session: SessionDep, org: str, project: str, ref: str) -> Image:
    found = await accounts.get_project_by_slugs(session, org, project)
    if found is None:
        raise NotFound(f"project {org}/{project} not found", code="PROJECT_NOT_FOUND")
    image = None
    if ref.startswith("@"):
        image = await images.get_by_alias(session, found.id, ref)
    elif is_uuid(ref):
        image = await images.get(session, found.id, ref)
    if image is None:
        raise NotFound(f"image {ref!r} not found", code="IMAGE_NOT_FOUND")
    return image


@router.api_route("/{org}/{project}/img/{ref}", methods=["GET", "HEAD"])
async def deliver_image(
    org: str, project: str, ref: str, request: Request, runtime: RuntimeDep, session: SessionDep
) -> Response:
    image = await find_image(session, org, project, ref)
    by_alias = ref.startswith("@")
    etag = f'"{image.file_hash}"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(image.created_at, usegmt=True),
        "Cache-Control": (
            f"public, max-age={runtime.settings.alias_cache_seconds}" if by_alias else IMMUTABLE
        ),
        "X-Image-Id": image.id,
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(image.size_bytes)
        return Response(status_code=200, headers=headers, media_type=image.mime_type)
    try:
        data = await runtime.blobs.get(image.storage_key)
    except BlobNotFound as exc:
        raise NotFound(f"image {ref!r} has no stored bytes", code="IMAGE_NOT_FOUND") from exc
    return Response(content=data, headers=headers, media_type=image.mime_type)
