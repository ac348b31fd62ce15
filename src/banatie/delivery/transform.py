"""Render a :class:`TransformSpec` with libvips: resize, crop, pad, re-encode, strip metadata.

:func:`render` is synchronous CPU work; callers run it through
:meth:`banatie.imaging.pool.CpuPool.run`. Parsing, normalising, negotiation and geometry live in
:mod:`banatie.delivery.params` and are re-exported here, so callers need one import.

Speed: one header read (to learn the upright source size), then one ``thumbnail_buffer`` call
sized by us with ``size="force"`` (shrink-on-load for JPEG/WebP, premultiplied-alpha resize,
auto-rotation, colour management), then ``extract_area``/``embed`` on the lazy pipeline, then
the encoder. Pixels are never copied to Python.

Decoding once: JPEG and WebP shrink on load, but a PNG (what Gemini returns) must be inflated
and unfiltered in full for every variant, which is half the cost of a 1344x768 transform.
:func:`decode_once` turns such a source into *decoded pixels* (upright, 8-bit sRGB, a one-line
header then the raw bands) that the variant cache stores next to the variants; :func:`render`
accepts either form and skips the decoder for the second (``new_from_memory``, no copy).
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from typing import Any, Final

import pyvips

from banatie.delivery import filters
from banatie.delivery.params import (
    ANCHORS,
    DEFAULT_QUALITY,
    MIME_TYPES,
    RGBA,
    Anchor,
    FormatParam,
    Layout,
    Mode,
    OutputFormat,
    Scale,
    TransformError,
    TransformSpec,
    format_from_mime,
    negotiate_format,
    output_size,
    parse_transform,
    plan_layout,
)

__all__ = [
    "ANCHORS",
    "DECODED_CONTENT_TYPE",
    "DECODED_MAGIC",
    "DEFAULT_QUALITY",
    "MAX_SOURCE_PIXELS",
    "MIME_TYPES",
    "Anchor",
    "FormatParam",
    "Layout",
    "Mode",
    "OutputFormat",
    "RenderError",
    "Scale",
    "SourceInfo",
    "TransformError",
    "TransformSpec",
    "decode_once",
    "decoded_size",
    "format_from_mime",
    "negotiate_format",
    "output_size",
    "parse_transform",
    "plan_layout",
    "probe",
    "render",
    "tune_process",
    "worth_decoding_once",
]

#: Sources above this many pixels are refused (decompression bombs).
MAX_SOURCE_PIXELS: Final = 120_000_000
#: Encoder effort. Variants are rendered on the request path, so we trade a little size for
#: latency. AVIF, 1600 px at Q 55 (`make bench`, docs/performance.md): effort 0 encodes in 77 ms
#: and 80 KB, effort 2 in 470 ms and 75 KB, libaom's default 4 in 3.5 s and 61 KB; WebP at
#: effort 4 takes 160 ms for 110 KB. Effort 0 is faster than WebP and still 27 % smaller.
WEBP_EFFORT: Final = 4
AVIF_EFFORT: Final = 0
PNG_COMPRESSION: Final = 6

_M_ARENA_MAX: Final = -8  # glibc mallopt parameters
_M_MMAP_THRESHOLD: Final = -3
#: Allocations from this size on get their own mapping, returned to the system when freed.
MMAP_THRESHOLD_BYTES: Final = 1024 * 1024
_KEEP_NONE: Final = 0  # VipsForeignKeep.NONE: strip EXIF, XMP, IPTC, ICC, everything
_SWAPPING_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})


def tune_process() -> None:
    """Process-wide memory settings for serving images; called once when delivery is built.

    * libvips' operation cache keeps recent operations and the buffers they reference (an
      original's bytes, decoded pixels) alive for reuse. Every variant request is a different
      operation on a buffer read just for it, so the cache only holds memory: it is turned off.
    * libvips' own threads per operation: 1. A server's parallelism comes from rendering
      several requests at once (the CPU pool, BANATIE_CPU_WORKERS threads); splitting each
      image over more threads on top only adds buffers and hand-offs (measured: faster and
      smaller with 1, see docs/performance.md).
    * glibc's malloc gives every thread that allocates concurrently an arena of its own (up
      to 8 per core) and keeps freed blocks in it: with image-sized buffers passing through
      the libvips, file and database threads, RSS grows with the thread count. Two arenas
      (what MALLOC_ARENA_MAX=2 does) measured 15% less peak RSS at the same CPU per request.
    * glibc serves a block from a mapping of its own (given back when freed) only from a size
      that it raises to the largest block freed so far: after one original of a few MB, every
      later original, pixel buffer and encoded variant comes from the heap, which keeps the
      memory. A fixed threshold of 1 MB (what MALLOC_MMAP_THRESHOLD_=1048576 does) gives those
      back: 20-30 MB less peak RSS for `serve` at 32 concurrent misses, same CPU per request
      (256 KB saved as much and cost 20% more CPU in page faults).
    """
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(_M_ARENA_MAX, 2)
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        except (OSError, AttributeError):  # not glibc (musl): nothing to tune
            pass


class RenderError(Exception):
    """The source bytes cannot be decoded or encoded (corrupt, unsupported, too large)."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What :func:`probe` learns from a header: upright size, alpha, MIME type."""

    width: int
    height: int
    has_alpha: bool
    mime: str | None


_LOADER_MIME: Final[dict[str, str]] = {
    "jpegload": "image/jpeg",
    "pngload": "image/png",
    "webpload": "image/webp",
    "heifload": "image/avif",
    "gifload": "image/gif",
    "tiffload": "image/tiff",
}


def _header(data: bytes) -> pyvips.Image:
    try:  # from a source on `data` itself: new_from_buffer would copy it first
        source = pyvips.Source.new_from_memory(data)
        return pyvips.Image.new_from_source(source, "", access="sequential")
    except pyvips.Error as exc:
        raise RenderError(f"cannot decode image: {exc.message.strip()}") from exc


def _upright_size(header: pyvips.Image) -> tuple[int, int]:
    width, height = int(header.width), int(header.height)
    if header.get_typeof("orientation") and header.get("orientation") in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return width, height


def probe(data: bytes) -> SourceInfo:
    """Read the header only: upright width/height, alpha, MIME type (None if unrecognised)."""
    header = _header(data)
    width, height = _upright_size(header)
    loader = str(header.get("vips-loader")) if header.get_typeof("vips-loader") else ""
    mime = next((m for prefix, m in _LOADER_MIME.items() if loader.startswith(prefix)), None)
    if mime == "image/avif" and header.get_typeof("heif-compression"):
        mime = "image/avif" if header.get("heif-compression") == "av1" else "image/heic"
    return SourceInfo(width, height, bool(header.hasalpha()), mime)


def _composite_over_white(colour: RGBA) -> tuple[int, int, int]:
    r, g, b, a = colour

    def over(c: int) -> int:
        return (c * a + 255 * (255 - a) + 127) // 255

    return (over(r), over(g), over(b))


def _background(image: pyvips.Image, rgb: tuple[int, int, int], alpha: int | None) -> list[float]:
    """A background vector matching ``image``'s bands (grey images take the grey value)."""
    colour: list[float] = [float(rgb[0])] if image.bands in (1, 2) else [float(c) for c in rgb]
    if alpha is not None:
        colour.append(float(alpha))
    return colour


def _pad(image: pyvips.Image, layout: Layout, background: list[float]) -> pyvips.Image:
    """Place ``image`` on the layout's canvas, the rest filled with ``background``."""
    return image.embed(
        layout.pad_left,
        layout.pad_top,
        layout.width,
        layout.height,
        extend="background",
        background=background,
    )


def _encode(image: pyvips.Image, output_format: str, quality: int) -> bytes:
    if output_format == "jpeg":
        data = image.jpegsave_buffer(Q=quality, optimize_coding=True, keep=_KEEP_NONE)
    elif output_format == "webp":
        data = image.webpsave_buffer(Q=quality, effort=WEBP_EFFORT, keep=_KEEP_NONE)
    elif output_format == "avif":
        data = image.heifsave_buffer(
            Q=quality, compression="av1", effort=AVIF_EFFORT, bitdepth=8, keep=_KEEP_NONE
        )
    else:
        data = image.pngsave_buffer(compression=PNG_COMPRESSION, keep=_KEEP_NONE)
    return bytes(data)


#: Decoded pixels start with this line, then ``{width} {height} {bands}\n``, then the bands.
DECODED_MAGIC: Final = b"banatie-pixels-v1\n"
DECODED_CONTENT_TYPE: Final = "application/x-banatie-pixels"
#: Sources up to this size are worth keeping decoded (at most 4 bytes a pixel: 16 MB).
DECODE_ONCE_MAX_PIXELS: Final = 4_194_304
#: Formats libvips cannot shrink on load: a decoded copy saves most of a variant's cost.
DECODE_ONCE_MIME_TYPES: Final = frozenset({"image/png"})


def worth_decoding_once(
    mime_type: str, width: int, height: int, max_pixels: int = DECODE_ONCE_MAX_PIXELS
) -> bool:
    return mime_type in DECODE_ONCE_MIME_TYPES and width * height <= max_pixels


def decoded_size(width: int, height: int, has_alpha: bool) -> int:
    """At most what :func:`decode_once` makes of a source this size (header aside)."""
    return width * height * (4 if has_alpha else 3) + 64


def _upright_srgb(data: bytes) -> pyvips.Image:
    """``data`` decoded in full: upright, colour-managed to 8-bit sRGB (or grey), alpha kept."""
    image = pyvips.Image.new_from_buffer(data, "")
    if image.get_typeof("icc-profile-data"):
        image = image.icc_transform("srgb", embedded=True)
    image = image.autorot()
    grey = image.bands < 3
    if image.format != "uchar" or image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("b-w" if grey else "srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def decode_once(data: bytes) -> bytes:
    """``data`` (an encoded image) as decoded pixels for :func:`render`: upright (orientation
    applied), colour-managed to 8-bit sRGB (or grey), alpha kept, metadata dropped."""
    try:
        image = _upright_srgb(data)
        pixels = image.write_to_memory()
    except pyvips.Error as exc:
        raise RenderError(f"cannot decode image: {exc.message.strip()}") from exc
    header = f"{image.width} {image.height} {image.bands}\n".encode()
    return DECODED_MAGIC + header + bytes(pixels)


def _load_decoded(data: bytes) -> pyvips.Image:
    start = len(DECODED_MAGIC)
    end = data.index(b"\n", start)
    width, height, bands = (int(v) for v in data[start:end].split())
    pixels = memoryview(data)[end + 1 :]
    if len(pixels) != width * height * bands:
        raise RenderError("decoded pixels are truncated")
    image = pyvips.Image.new_from_memory(pixels, width, height, bands, "uchar")
    return image.copy(interpretation="b-w" if bands < 3 else "srgb")


def render(
    data: bytes,
    spec: TransformSpec,
    *,
    output_format: str,
    focal: tuple[float, float] = (0.5, 0.5),
    watermark: bytes | None = None,
) -> bytes:
    """Apply ``spec`` to ``data`` and encode it as ``output_format``.

    ``data`` is an encoded image, or decoded pixels from :func:`decode_once`.
    ``output_format`` is one of ``MIME_TYPES`` (usually from :func:`negotiate_format`);
    ``focal`` is the image's stored focal point (x, y in 0..1), used by ``mode=crop`` unless the
    spec has a gravity; ``watermark`` is the encoded image ``spec.effects.watermark`` names.
    The result is upright (EXIF orientation applied), 8-bit sRGB, and carries no metadata.
    Raises :class:`RenderError` when the source cannot be decoded.
    """
    if output_format not in MIME_TYPES:
        raise ValueError(f"unsupported output format {output_format!r}")
    if data.startswith(DECODED_MAGIC):
        try:
            decoded = _load_decoded(data)
            return _from_pixels(decoded, spec, output_format, focal, watermark)
        except (pyvips.Error, ValueError) as exc:
            raise RenderError(f"cannot transform decoded image: {exc}") from exc
    header = _header(data)
    source_width, source_height = _upright_size(header)
    if source_width * source_height > MAX_SOURCE_PIXELS:
        raise RenderError(
            f"image is too large ({source_width}x{source_height}); "
            f"the limit is {MAX_SOURCE_PIXELS} pixels"
        )
    try:
        if spec.effects.before_resize:  # trim/srotate/sflip need the whole source first
            return _from_pixels(_upright_srgb(data), spec, output_format, focal, watermark)
        layout = plan_layout(spec, source_width, source_height, focal)
        return _render(data, header, layout, spec, output_format, watermark)
    except pyvips.Error as exc:
        raise RenderError(f"cannot transform image: {exc.message.strip()}") from exc


def _from_pixels(
    image: pyvips.Image,
    spec: TransformSpec,
    output_format: str,
    focal: tuple[float, float],
    watermark: bytes | None,
) -> bytes:
    image, focal = filters.before_resize(image, spec.effects, focal)
    layout = plan_layout(spec, image.width, image.height, focal)
    image = pyvips.Image.thumbnail_image(
        image, layout.resize_width, height=layout.resize_height, size="force"
    )
    return _finish(image, layout, spec, output_format, watermark)


def _render(
    data: bytes,
    header: pyvips.Image,
    layout: Layout,
    spec: TransformSpec,
    output_format: str,
    watermark: bytes | None,
) -> bytes:
    options: dict[str, Any] = {"height": layout.resize_height, "size": "force"}
    if header.get_typeof("icc-profile-data"):
        # Convert to sRGB before the profile is stripped; without a profile the image is
        # already taken as sRGB and we skip the (costly) transform.
        options["output_profile"] = "srgb"
    image = pyvips.Image.thumbnail_buffer(data, layout.resize_width, **options)
    return _finish(image, layout, spec, output_format, watermark)


def _finish(
    image: pyvips.Image,
    layout: Layout,
    spec: TransformSpec,
    output_format: str,
    watermark: bytes | None = None,
) -> bytes:
    """Crop, filter, pad, flatten, rotate, watermark and encode a resized image (the lazy
    pipeline runs in the encoder)."""
    if layout.crops:
        image = image.extract_area(
            layout.crop_left, layout.crop_top, layout.crop_width, layout.crop_height
        )
    image = filters.adjust(image, spec.effects)

    colour = spec.bgcolor or (0, 0, 0, 0)
    if output_format == "jpeg":
        # JPEG has no alpha: composite everything (image and padding) over the matte.
        matte = _composite_over_white(colour)
        if image.bands < 3 and len(set(matte)) > 1:
            image = image.colourspace("srgb")
        if image.hasalpha():
            image = image.flatten(background=_background(image, matte, None))
        if layout.pads:
            image = _pad(image, layout, _background(image, matte, None))
    elif layout.pads:
        rgb = colour[:3]
        if image.bands < 3 and len(set(rgb)) > 1:
            image = image.colourspace("srgb")
        if colour[3] < 255 and not image.hasalpha():
            image = image.addalpha()
        alpha = colour[3] if image.hasalpha() else None
        image = _pad(image, layout, _background(image, rgb, alpha))

    if (image.width, image.height) != (layout.width, layout.height):
        # Defensive: a rounding disagreement with libvips must never change the promised size.
        image = image.gravity("centre", layout.width, layout.height, extend="copy")
    image = filters.after_layout(image, spec.effects, watermark)

    return _encode(image, output_format, spec.quality_for(output_format))
