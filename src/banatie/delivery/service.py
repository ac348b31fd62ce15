"""Serving `/cdn/{org}/{project}/img/{id | @alias}[?transform]`: originals and variants.

Per request, in order, stopping at the first that answers:

1. parse the RIAPI parameters and check ``sig``/``exp`` (400 naming the parameter; no I/O yet);
2. one indexed SELECT for the image (404 when it or its project does not exist);
3. negotiate the format, hash the variant, compare ``If-None-Match`` (304, no blob I/O);
4. read the variant blob (a hit: no decoding, no database write);
5. a miss: check the cap on unsigned variants, then render once per process (single-flight)
   in the libvips pool, store the blob atomically, record the variant, answer
   (:mod:`banatie.delivery.rendering`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Final

from banatie.accounts.errors import ProjectNotFound
from banatie.delivery import rendering, signing
from banatie.delivery.conditional import not_modified
from banatie.delivery.outbox import alias_tag, image_tag
from banatie.delivery.params import (
    MIME_TYPES,
    TRANSFORM_PARAMS,
    OutputFormat,
    TransformError,
    TransformSpec,
    check_output_size,
)
from banatie.delivery.repository import ImageRow
from banatie.delivery.transform import (
    negotiate_format,
)
from banatie.delivery.urls import image_path
from banatie.delivery.variants import (
    focal_matters,
    variant_hash,
    variant_key,
)
from banatie.errors import NotFound, ValidationError
from banatie.images.aliases import is_uuid
from banatie.images.errors import ImageNotFound
from banatie.runtime import Runtime
from banatie.storage.base import BlobNotFound

log = logging.getLogger(__name__)

IMMUTABLE: Final = "public, max-age=31536000, immutable"
ONE_YEAR: Final = 31536000
#: A stored variant up to this size is read the store's quickest way (BlobStore.read_small).
VARIANT_READ_MAX_BYTES: Final = 512 * 1024


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """What delivery reads from an HTTP request (built by the ASGI fast path or the route)."""

    method: str
    org: str
    project: str
    ref: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names; only the ones delivery reads

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)

    @classmethod
    def of(
        cls,
        method: str,
        org: str,
        project: str,
        ref: str,
        query: list[tuple[str, str]],
        headers: Iterable[tuple[str, str]],
    ) -> DeliveryRequest:
        """From an HTTP request's parts: of its headers, only the ones delivery reads."""
        kept = {name: value for name, value in headers if name in REQUEST_HEADERS}
        return cls(method, org, project, ref, query, kept)


#: The request headers delivery looks at.
REQUEST_HEADERS: Final = frozenset({"accept", "if-none-match", "if-modified-since"})


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    media_type: str | None = None
    #: The row this reply was made from, when the same URL may get the same reply for as long
    #: as that row is the cached one (banatie.delivery.warm); None: never repeat it.
    warm: ImageRow | None = None


def _bad(exc: TransformError) -> ValidationError:
    details: dict[str, object] = {"param": exc.param}
    if exc.params:
        details["params"] = list(exc.params)
    return ValidationError(exc.message, code=exc.code, details=details)


def _preset_only(query: list[tuple[str, str]]) -> bool:
    """``preset=name`` and no other transformation parameter: what a signed-only server
    serves unsigned (a preset is a variant Banatie itself hands out)."""
    names = {name.strip().lower() for name, _ in query}
    return "preset" in names and not names & TRANSFORM_PARAMS


def _cache_control(rt: Runtime, by_alias: bool, expires_at: int | None) -> str:
    max_age = rt.settings.alias_cache_seconds if by_alias else ONE_YEAR
    if expires_at is not None:
        return f"public, max-age={max(0, min(max_age, expires_at - int(time.time())))}"
    return f"public, max-age={max_age}" if by_alias else IMMUTABLE


async def _find(rt: Runtime, org: str, project: str, ref: str) -> ImageRow:
    if not ref.startswith("@") and not is_uuid(ref):
        raise ImageNotFound(f"image {ref!r} not found")
    cached = rt.delivery.rows.get(org, project, ref)
    if cached is not None:
        return cached
    token = rt.delivery.rows.token()
    image = await rt.delivery.lookup.find_image(org, project, ref)
    if image is not None:
        rt.delivery.rows.put(org, project, ref, image, token)
    else:
        if not await rt.delivery.lookup.project_exists(org, project):
            raise ProjectNotFound(f"project {org}/{project} not found")
        raise ImageNotFound(f"image {ref!r} not found")
    return image


async def deliver(rt: Runtime, request: DeliveryRequest) -> Reply:
    """Answer one GET/HEAD; raises :class:`ApiError` (400, 403, 404, 422) for the error envelope."""
    settings = rt.settings
    org, project, ref = request.org, request.project, request.ref
    try:
        spec = rt.delivery.parse(request.params)
        signed, expires_at = signing.verify(
            settings.delivery_signing_key, image_path(org, project, ref), request.query
        )
    except TransformError as exc:
        raise _bad(exc) from exc
    if (
        not spec.is_identity
        and not signed
        and settings.delivery_require_signature
        and not _preset_only(request.query)
    ):
        raise ValidationError(
            "sig is required: this server serves transformed images only through signed URLs "
            "(or preset=name)",
            details={"param": "sig"},
        )
    image = await _find(rt, org, project, ref)
    by_alias = ref.startswith("@")
    tags = [image_tag(image.id)]
    if by_alias:
        tags.append(alias_tag(org, project, ref))
    headers = {
        "Cache-Control": _cache_control(rt, by_alias, expires_at),
        "X-Image-Id": image.id,
        "Cache-Tag": ",".join(tags),
    }
    if spec.is_identity:
        reply = await _original(rt, request, image, headers, by_alias)
    else:
        reply = await _variant(rt, request, image, spec, headers, by_alias=by_alias, signed=signed)
    if (
        reply.status == 200
        and expires_at is None
        and spec.effects.watermark is None
        and headers.get("X-Variant-Cache", "hit") == "hit"
    ):
        reply.warm = image
    return reply


async def _original(
    rt: Runtime, request: DeliveryRequest, image: ImageRow, headers: dict[str, str], by_alias: bool
) -> Reply:
    etag = f'"{image.file_hash}"'
    headers["ETag"] = etag
    headers["Last-Modified"] = format_datetime(image.created_at, usegmt=True)
    if not_modified(request.headers, etag, image.created_at, use_date=not by_alias):
        return Reply(304, headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(image.size_bytes)
        return Reply(200, headers, media_type=image.mime_type)
    try:
        data = await rt.blobs.get(image.storage_key)
    except BlobNotFound as exc:
        raise ImageNotFound(f"image {image.id} has no stored bytes") from exc
    return Reply(200, headers, data, image.mime_type)


async def _variant(
    rt: Runtime,
    request: DeliveryRequest,
    image: ImageRow,
    spec: TransformSpec,
    headers: dict[str, str],
    *,
    by_alias: bool,
    signed: bool,
) -> Reply:
    try:
        size = check_output_size(
            spec, image.width, image.height, max_dimension=rt.settings.max_transform_dimension
        )
        output_format: OutputFormat = negotiate_format(
            spec.format,
            request.headers.get("accept"),
            has_alpha=image.has_alpha,
            source_mime=image.mime_type,
            size=size,
        )
    except TransformError as exc:
        raise _bad(exc) from exc
    keyed = spec.with_format(output_format)
    focal = (image.focal_x, image.focal_y)
    mark = await _watermark(rt, request, spec)
    digest = variant_hash(keyed, focal, None if mark is None else mark.file_hash)
    key = variant_key(image.storage_key, digest)
    media_type = MIME_TYPES[output_format]
    etag = f'"{image.file_hash[:16]}-{digest[:24]}"'
    # A focal-point crop changes when the focal point does (updated_at); anything else never.
    modified = image.updated_at if focal_matters(keyed) else image.created_at
    headers["ETag"] = etag
    headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    if spec.format == "auto":
        headers["Vary"] = "Accept"
    if not_modified(request.headers, etag, modified, use_date=not by_alias):
        return Reply(304, headers)

    # Hit: the stored bytes, as they are.
    try:
        data = await rt.blobs.read_small(key, VARIANT_READ_MAX_BYTES)
    except BlobNotFound:
        pass
    else:
        headers["X-Variant-Cache"] = "hit"
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            return Reply(200, headers, media_type=media_type)
        return Reply(200, headers, data, media_type)

    # Miss.
    canonical = spec.canonical()
    counted = not signed and not rt.delivery.is_published(spec, image.width)

    async def produce() -> tuple[bytes, bool]:
        # A request that missed just before another flight for this key finished finds the
        # blob now: look again before rendering, so a variant is rendered once, not twice.
        try:
            return await rt.blobs.get(key), False
        except BlobNotFound:
            pass
        data = await rendering.render_and_store(
            rt, image, keyed, output_format, key, digest, canonical, counted, signed, mark
        )
        return data, True

    (data, rendered), led = await rt.delivery.flights.run(key, produce)
    headers["X-Variant-Cache"] = ("miss" if rendered else "hit") if led else "coalesced"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(data))
        return Reply(200, headers, media_type=media_type)
    return Reply(200, headers, data, media_type)


async def _watermark(rt: Runtime, request: DeliveryRequest, spec: TransformSpec) -> ImageRow | None:
    """The image ``watermark=`` names, in the same project (400 naming it when missing)."""
    mark = spec.effects.watermark
    if mark is None:
        return None
    try:
        return await _find(rt, request.org, request.project, mark.ref)
    except NotFound as exc:
        raise ValidationError(
            f"watermark {mark.ref} is not an image of {request.org}/{request.project}",
            details={"param": "watermark"},
        ) from exc
