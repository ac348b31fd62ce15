"""Output formats: what each is called, its MIME type and encoder limits, and which one a
request gets (``format=``, ``Accept`` negotiation, the source's own format)."""

from __future__ import annotations

import math
from typing import Final, Literal, TypeAlias

from banatie.delivery.riapi import TransformError

OutputFormat: TypeAlias = Literal["avif", "webp", "jpeg", "png"]
FormatParam: TypeAlias = Literal["auto", "avif", "webp", "jpeg", "png"]

MIME_TYPES: Final[dict[str, str]] = {
    "avif": "image/avif",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
}

#: The longest side each encoder can write (libheif's AV1 16384, libwebp 16383, JPEG 65500;
#: libpng's default user limit). Past it the encoder fails, so we decide before rendering.
ENCODER_MAX_SIDE: Final[dict[OutputFormat, int]] = {
    "avif": 16384,
    "webp": 16383,
    "jpeg": 65500,
    "png": 1_000_000,
}

#: Encoder quality used when the URL gives none. PNG is lossless and ignores quality.
DEFAULT_QUALITY: Final[dict[str, int]] = {"jpeg": 82, "webp": 82, "avif": 55}

#: ``format=`` values (and the ``jpg`` spelling) -> the format.
FORMAT_NAMES: Final[dict[str, FormatParam]] = {
    "auto": "auto",
    "avif": "avif",
    "webp": "webp",
    "jpeg": "jpeg",
    "jpg": "jpeg",
    "png": "png",
}
_MIME_FORMATS: Final[dict[str, OutputFormat]] = {
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/png": "png",
    "image/apng": "png",
    "image/webp": "webp",
    "image/avif": "avif",
}


def format_from_mime(mime: str | None) -> OutputFormat | None:
    """The output format that matches a MIME type, or None for anything we do not encode."""
    if not mime:
        return None
    return _MIME_FORMATS.get(mime.split(";", 1)[0].strip().lower())


def _accepted(accept: str) -> dict[str, float]:
    """Media range -> q value, for the explicitly listed ranges of an Accept header."""
    result: dict[str, float] = {}
    for item in accept.split(","):
        media, *options = (piece.strip() for piece in item.split(";"))
        if not media:
            continue
        q = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not math.isfinite(q):
                    q = 0.0
        media = media.lower()
        result[media] = max(q, result.get(media, 0.0))
    return result


def _fits(fmt: OutputFormat, size: tuple[int, int] | None) -> bool:
    return size is None or max(size) <= ENCODER_MAX_SIDE[fmt]


def negotiate_format(
    spec_format: str | None,
    accept: str | None,
    *,
    has_alpha: bool,
    source_mime: str,
    size: tuple[int, int] | None = None,
) -> OutputFormat:
    """Pick the output format for an output of ``size`` (width, height) pixels.

    An explicit format wins; when its encoder cannot write ``size`` that is a
    :class:`TransformError` naming ``format``. ``auto`` picks AVIF, then WebP, when ``Accept``
    lists them by name (wildcards do not count: ``*/*`` is sent by clients that cannot decode
    either), else JPEG, or PNG when the image has alpha. No format keeps the source format
    (falling back like ``auto`` without ``Accept`` for sources we do not encode, e.g. GIF).
    A format we picked ourselves is skipped when it cannot write ``size`` (AVIF past 16384
    pixels goes to WebP if accepted, then JPEG/PNG).
    """
    if spec_format is not None and spec_format != "auto":
        explicit = FORMAT_NAMES.get(spec_format.lower())
        if explicit is None or explicit == "auto":
            raise TransformError("format", "format must be one of auto, webp, avif, jpeg or png")
        if size is not None and not _fits(explicit, size):
            raise TransformError(
                "format",
                f"format={spec_format} cannot encode an image of {size[0]}x{size[1]} pixels "
                f"(at most {ENCODER_MAX_SIDE[explicit]} on a side); "
                "lower w or h, or use format=jpeg or png",
            )
        return explicit
    if spec_format == "auto" and accept:
        accepted = _accepted(accept)
        preferred: tuple[tuple[int, OutputFormat], ...] = ((2, "avif"), (1, "webp"))
        ranked = [
            (accepted.get(MIME_TYPES[fmt], 0.0), preference, fmt)
            for preference, fmt in preferred
            if _fits(fmt, size)
        ]
        if ranked:
            q, _, best = max(ranked)
            if q > 0.0:
                return best
    if spec_format is None:
        source = format_from_mime(source_mime)
        if source is not None and _fits(source, size):
            return source
    fallback: OutputFormat = "png" if has_alpha else "jpeg"
    return fallback if _fits(fallback, size) else "png"
