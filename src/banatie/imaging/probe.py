"""Judge an image by its content: format from magic bytes, size from the header, before decoding."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

MIME_BY_FORMAT = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class InvalidImage(ValueError):
    """The bytes are not an acceptable image; the message says what to fix."""


@dataclass(frozen=True)
class ImageHeader:
    format: str
    mime_type: str
    width: int
    height: int
    has_alpha: bool


def sniff_format(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def probe(data: bytes, *, max_pixels: int) -> ImageHeader:
    """Read the header only (libvips is lazy), so a decompression bomb is refused unopened."""
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidImage("the file is not a PNG, JPEG or WebP image")
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error as exc:
        raise InvalidImage(f"the {fmt.upper()} file is damaged or truncated") from exc
    width, height = int(image.width), int(image.height)
    if width * height > max_pixels:
        raise InvalidImage(
            f"the image is {width}x{height} ({width * height} pixels); "
            f"the limit is {max_pixels} pixels"
        )
    return ImageHeader(
        format=fmt,
        mime_type=MIME_BY_FORMAT[fmt],
        width=width,
        height=height,
        has_alpha=bool(image.hasalpha()),
    )


def verify_decodes(data: bytes) -> None:
    """Decode fully once: a truncated body with a valid header must not be stored."""
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential", fail=True)
        image.avg()
    except pyvips.Error as exc:
        raise InvalidImage("the image data is damaged or truncated") from exc
