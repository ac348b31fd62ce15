"""A variant miss: read the source (the original, or its decoded pixels made once and kept),
render it in the libvips pool, store the blob, record the variant — within the cap on unsigned
variants, and leaving nothing behind when the image goes meanwhile."""

from __future__ import annotations

import logging

from banatie.accounts.models import Project
from banatie.delivery.params import MIME_TYPES, OutputFormat, TransformSpec
from banatie.delivery.repository import ImageRow, Reservation
from banatie.delivery.transform import (
    DECODED_CONTENT_TYPE,
    RenderError,
    decode_once,
    decoded_size,
    render,
    worth_decoding_once,
)
from banatie.delivery.variants import DECODED_NAME, decoded_key
from banatie.errors import ApiError
from banatie.images.errors import ImageNotFound
from banatie.quota import service as quota
from banatie.runtime import Runtime
from banatie.storage.base import BlobNotFound

log = logging.getLogger(__name__)


class VariantLimitExceeded(ApiError, status=403, code="VARIANT_LIMIT_EXCEEDED"): ...


class TransformFailed(ApiError, status=422, code="TRANSFORM_FAILED"): ...


def _failed(image: ImageRow, exc: RenderError) -> TransformFailed:
    """The stored original cannot be decoded: libvips' words go to the log, not the client."""
    log.warning("image %s cannot be transformed: %s", image.id, exc)
    return TransformFailed(
        f"image {image.id} cannot be transformed: its stored bytes cannot be decoded"
    )


async def original_bytes(rt: Runtime, image: ImageRow) -> bytes:
    try:
        return await rt.blobs.get(image.storage_key)
    except BlobNotFound as exc:
        raise ImageNotFound(f"image {image.id} has no stored bytes") from exc


async def _source(rt: Runtime, image: ImageRow, digest: str) -> bytes:
    """What the renderer reads for the variant `digest`: the decoded pixels of a PNG (made on
    its second variant, stored, shared by every later variant and replica), or the original
    bytes. The first variant of an image renders from the original and keeps nothing: many
    images are only ever shown in one size, and decoding in full, storing and recording 3 MB
    costs that first miss more than it saves. Decoded pixels are kept only up to
    BANATIE_DECODED_CACHE_MAX_PIXELS and while they fit in the project's storage."""
    limit = rt.settings.decoded_cache_max_pixels
    if not worth_decoding_once(image.mime_type, image.width, image.height, limit):
        return await original_bytes(rt, image)
    key = decoded_key(image.storage_key)
    try:
        return await rt.blobs.get(key)
    except BlobNotFound:
        pass
    if not await rt.delivery.lookup.has_other_variant(image.id, digest):
        return await original_bytes(rt, image)
    if not await _room_for(rt, image, decoded_size(image.width, image.height, image.has_alpha)):
        return await original_bytes(rt, image)

    async def decode() -> bytes:
        try:  # a flight that just finished may have stored them
            return await rt.blobs.get(key)
        except BlobNotFound:
            pass
        original = await original_bytes(rt, image)
        try:
            decoded = await rt.cpu.run(decode_once, original)
        except RenderError as exc:
            raise _failed(image, exc) from exc
        await rt.blobs.put(key, decoded, DECODED_CONTENT_TYPE)
        if not await rt.delivery.lookup.record_decoded(image.id, DECODED_NAME, len(decoded)):
            await rt.blobs.delete(key)  # the image was deleted meanwhile
            raise ImageNotFound(f"image {image.id} not found")
        return decoded

    data, _ = await rt.delivery.flights.run(key, decode)
    return data


async def _room_for(rt: Runtime, image: ImageRow, size: int) -> bool:
    async with rt.sessionmaker() as session:
        project = await session.get(Project, image.project_id)
        return project is not None and await quota.has_room(session, project, rt.settings, size)


async def render_and_store(
    rt: Runtime,
    image: ImageRow,
    spec: TransformSpec,
    output_format: OutputFormat,
    key: str,
    digest: str,
    canonical: str,
    counted: bool,
    signed: bool,
    mark: ImageRow | None,
) -> bytes:
    lookup = rt.delivery.lookup
    cap = rt.settings.max_variants_per_image
    # The row first: the cap on unsigned variants is decided in the database, atomically.
    reservation = await lookup.reserve_variant(
        image_id=image.id,
        variant_hash=digest,
        spec=canonical,
        output_format=output_format,
        counted=counted,
        signed=signed,
        cap=cap,
    )
    if reservation is Reservation.FULL:
        raise VariantLimitExceeded(
            f"image {image.id} already has {cap} distinct unsigned variants, the most allowed "
            f"(BANATIE_MAX_VARIANTS_PER_IMAGE={cap}); use a preset, an existing variant, or a "
            "signed URL"
        )
    if reservation is Reservation.GONE:
        raise ImageNotFound(f"image {image.id} not found")
    try:
        # Only as many originals in memory as can be rendered at once: a burst of misses waits
        # here holding nothing, instead of each holding a decoded-size buffer while it queues.
        async with rt.delivery.render_slots():
            source = await _source(rt, image, digest)
            watermark = None if mark is None else await original_bytes(rt, mark)
            try:
                data = await rt.cpu.run(
                    render,
                    source,
                    spec,
                    output_format=output_format,
                    focal=(image.focal_x, image.focal_y),
                    watermark=watermark,
                )
            except RenderError as exc:
                raise _failed(image, exc) from exc
            del source, watermark
        # Atomic put: a reader sees the whole variant or none, and a failure leaves nothing.
        await rt.blobs.put(key, data, MIME_TYPES[output_format])
    except BaseException:
        if reservation is Reservation.NEW:
            await lookup.release_variant(image.id, digest)
        raise
    if not await lookup.finish_variant(image.id, digest, len(data)):
        # The image was deleted while we rendered: leave nothing behind.
        await rt.blobs.delete(key)
        await rt.blobs.delete(decoded_key(image.storage_key))
        raise ImageNotFound(f"image {image.id} not found")
    return data
