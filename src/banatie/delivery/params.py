"""Transformation parameters: parsing, normalising, format negotiation and output geometry.

Pure Python, no libvips: everything here is cheap enough to run on the event loop. The pixel
work lives in :mod:`banatie.delivery.transform`.

Parameter names follow Imageflow's RIAPI: ``w``/``width``, ``h``/``height``, ``mode``, ``scale``,
``anchor``, ``c.gravity``, ``dpr``, ``format``/``fmt``, ``quality``, ``bgcolor``, and the effects
of :mod:`banatie.delivery.effects` (rotation, flips, trim, filters, watermark). ``preset=name``
starts from a named preset. Unknown parameters are ignored (``strict=true`` refuses them); a
bad value raises :class:`TransformError`.

Semantics decided here (and relied on by the renderer and by caches):

* ``dpr`` multiplies ``w`` and ``h`` and is folded into them, so ``w=200&dpr=2`` and ``w=400``
  are the same transform. With neither ``w`` nor ``h`` it has no effect.
* With only one of ``w``/``h`` every mode behaves like ``max`` (keep the aspect ratio).
* For ``mode=crop`` an ``anchor`` is the same as ``c.gravity`` at 0/50/100 percent, and
  ``c.gravity`` wins over ``anchor``. ``c.gravity`` names the point the crop window is centred on
  (clamped inside the image), just like the image's stored focal point, which is the default.
* ``bgcolor`` defaults to transparent; when the output is JPEG any colour is composited over
  white, so the default there is white. Every fully transparent colour is the same colour.
* ``scale=down`` never enlarges: when the source is too small the whole target box is scaled
  down, keeping its aspect ratio. ``scale=canvas`` keeps the target box but pads instead of
  enlarging the image.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal, TypeAlias

from banatie.delivery.effects import EFFECT_PARAMS, NO_EFFECTS, Effects, parse_effects
from banatie.delivery.riapi import (
    ANCHORS,
    NUMBER_RE,
    Anchor,
    TransformError,
    fmt_number,
    parse_choice,
    parse_int,
    show,
)

__all__ = [
    "ANCHORS",
    "CONTROL_PARAMS",
    "DEFAULT_QUALITY",
    "ENCODER_MAX_SIDE",
    "MIME_TYPES",
    "RGBA",
    "TRANSFORM_PARAMS",
    "Anchor",
    "FormatParam",
    "Layout",
    "Mode",
    "OutputFormat",
    "Scale",
    "TransformError",
    "TransformSpec",
    "check_output_size",
    "format_from_mime",
    "negotiate_format",
    "output_size",
    "parse_transform",
    "plan_layout",
]

Mode: TypeAlias = Literal["max", "pad", "crop", "stretch"]
Scale: TypeAlias = Literal["down", "both", "canvas"]
OutputFormat: TypeAlias = Literal["avif", "webp", "jpeg", "png"]
FormatParam: TypeAlias = Literal["auto", "avif", "webp", "jpeg", "png"]
RGBA: TypeAlias = tuple[int, int, int, int]

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


_MODES: Final[dict[str, Mode]] = {"max": "max", "pad": "pad", "crop": "crop", "stretch": "stretch"}
_SCALES: Final[dict[str, Scale]] = {
    "down": "down",
    "both": "both",
    "canvas": "canvas",
    # Legacy ImageResizer spellings.
    "downscaleonly": "down",
    "upscalecanvas": "canvas",
}
_ANCHOR_NAMES: Final[dict[str, Anchor]] = {name: name for name in ANCHORS}
_FORMATS: Final[dict[str, FormatParam]] = {
    "auto": "auto",
    "avif": "avif",
    "webp": "webp",
    "jpeg": "jpeg",
    "jpg": "jpeg",
    "png": "png",
}
_NAMED_COLOURS: Final[dict[str, RGBA]] = {
    "transparent": (0, 0, 0, 0),
    "white": (255, 255, 255, 255),
    "black": (0, 0, 0, 255),
    "gray": (128, 128, 128, 255),
    "grey": (128, 128, 128, 255),
    "silver": (192, 192, 192, 255),
    "red": (255, 0, 0, 255),
    "green": (0, 128, 0, 255),
    "blue": (0, 0, 255, 255),
    "yellow": (255, 255, 0, 255),
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

_HEX_RE: Final = re.compile(r"[0-9a-f]+")

# Parameter name -> canonical name. Keys are matched case-insensitively.
_ALIASES: Final[dict[str, str]] = {
    "w": "w",
    "width": "w",
    "h": "h",
    "height": "h",
    "mode": "mode",
    "scale": "scale",
    "anchor": "anchor",
    "c.gravity": "c.gravity",
    "dpr": "dpr",
    "format": "format",
    "fmt": "format",
    "quality": "quality",
    "bgcolor": "bgcolor",
    **{name: name for name in EFFECT_PARAMS},
}
#: Every transformation parameter name (lower case, aliases included).
TRANSFORM_PARAMS: Final = frozenset(_ALIASES)
#: Parameters the origin reads that are not part of a transform's pixels.
CONTROL_PARAMS: Final = frozenset({"preset", "strict", "sig", "exp"})
_BOOLEANS: Final[dict[str, bool]] = {
    "true": True,
    "1": True,
    "yes": True,
    "false": False,
    "0": False,
    "no": False,
}


@dataclass(frozen=True)
class TransformSpec:
    """One image transformation, normalised so that equal transforms compare (and hash) equal.

    ``width``/``height`` are output pixels (``dpr`` already applied); ``gravity`` is the crop
    centre in percent; ``bgcolor`` is RGBA. Construction normalises away anything that has no
    effect (see the module docstring), so build specs with :func:`parse_transform` or directly.
    """

    width: int | None = None
    height: int | None = None
    mode: Mode = "max"
    scale: Scale = "down"
    anchor: Anchor | None = None
    gravity: tuple[float, float] | None = None
    format: FormatParam | None = None
    quality: int | None = None
    bgcolor: RGBA | None = None
    effects: Effects = NO_EFFECTS

    def __post_init__(self) -> None:
        for name, dim in (("w", self.width), ("h", self.height)):
            if dim is not None and dim < 1:
                raise TransformError(name, f"{name} must be a positive integer")
        if self.quality is not None and not 1 <= self.quality <= 100:
            raise TransformError("quality", "quality must be an integer from 1 to 100")

        both = self.width is not None and self.height is not None
        mode: Mode = self.mode if both else "max"
        scale: Scale = self.scale if (self.width is not None or self.height is not None) else "down"
        anchor = self.anchor
        gravity = (
            None
            if self.gravity is None
            else (round(float(self.gravity[0]), 2), round(float(self.gravity[1]), 2))
        )
        if gravity is not None and not all(0.0 <= g <= 100.0 for g in gravity):
            raise TransformError("c.gravity", "c.gravity values must be between 0 and 100")

        if mode == "crop":
            # An anchor is a gravity at the image's edge or centre; an explicit gravity wins.
            if gravity is None and anchor is not None:
                ax, ay = ANCHORS[anchor]
                gravity = (ax * 100.0, ay * 100.0)
            anchor = None
        else:
            gravity = None
            # The anchor places the image on a padded canvas: pad mode, or scale=canvas.
            if (mode != "pad" and scale != "canvas") or anchor == "middlecenter":
                anchor = None

        bgcolor = self.bgcolor
        if bgcolor is not None and bgcolor[3] == 0:
            bgcolor = None  # every transparent colour is the default
        pads = mode == "pad" or (scale == "canvas" and self.resizes)
        if not pads and self.format != "jpeg":
            bgcolor = None  # only padding and JPEG's alpha flattening use a background

        quality = self.quality
        default_quality = DEFAULT_QUALITY.get(self.format or "")
        if self.format == "png" or quality == default_quality:
            quality = None  # PNG is lossless; a default quality is no quality

        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "anchor", anchor)
        object.__setattr__(self, "gravity", gravity)
        object.__setattr__(self, "bgcolor", bgcolor)
        object.__setattr__(self, "quality", quality)

    @property
    def is_identity(self) -> bool:
        """True when the spec asks for nothing: serve the original bytes."""
        return self == _IDENTITY

    @property
    def resizes(self) -> bool:
        return self.width is not None or self.height is not None

    def canonical(self) -> str:
        """Canonical query string: fixed order, aliases resolved, defaults omitted.

        Two URLs that mean the same transform give the same string; the identity gives "".
        """
        parts: list[str] = []
        if self.width is not None:
            parts.append(f"w={self.width}")
        if self.height is not None:
            parts.append(f"h={self.height}")
        if self.mode != "max":
            parts.append(f"mode={self.mode}")
        if self.scale != "down":
            parts.append(f"scale={self.scale}")
        if self.anchor is not None:
            parts.append(f"anchor={self.anchor}")
        if self.gravity is not None:
            gx, gy = self.gravity
            parts.append(f"c.gravity={fmt_number(gx)},{fmt_number(gy)}")
        if self.bgcolor is not None:
            r, g, b, a = self.bgcolor
            alpha = "" if a == 255 else f"{a:02x}"
            parts.append(f"bgcolor={r:02x}{g:02x}{b:02x}{alpha}")
        parts += self.effects.canonical()
        if self.format is not None:
            parts.append(f"format={self.format}")
        if self.quality is not None:
            parts.append(f"quality={self.quality}")
        return "&".join(parts)

    def with_format(self, output_format: OutputFormat) -> TransformSpec:
        """This spec with the negotiated output format filled in (for a variant's cache key)."""
        return replace(self, format=output_format)

    def quality_for(self, output_format: str) -> int:
        """The encoder quality for ``output_format`` (PNG ignores it)."""
        if self.quality is not None:
            return self.quality
        return DEFAULT_QUALITY.get(output_format, 100)


_IDENTITY: Final = TransformSpec()


# --------------------------------------------------------------------------------------------
# Parsing


def _parse_dpr(param: str, raw: str, high: float) -> float:
    text = raw.strip().lower().removesuffix("x")
    value = float(text) if NUMBER_RE.fullmatch(text) else math.nan
    if not 1.0 <= value <= high:  # also false for NaN
        raise TransformError(
            param, f"{param} must be a number from 1 to {fmt_number(high)} (got {show(raw)})"
        )
    return value


def _parse_gravity(param: str, raw: str) -> tuple[float, float]:
    pieces = [p.strip() for p in raw.split(",")]
    if len(pieces) == 2 and all(NUMBER_RE.fullmatch(p) for p in pieces):
        x, y = float(pieces[0]), float(pieces[1])
        if 0.0 <= x <= 100.0 and 0.0 <= y <= 100.0:
            return (x, y)
    raise TransformError(
        param,
        f"{param} must be two percentages 'x,y', each from 0 to 100, e.g. 50,30 (got {show(raw)})",
    )


def _parse_colour(param: str, raw: str) -> RGBA:
    text = raw.strip().lower().removeprefix("#")
    named = _NAMED_COLOURS.get(text)
    if named is not None:
        return named
    if _HEX_RE.fullmatch(text) and len(text) in (3, 4, 6, 8):
        if len(text) in (3, 4):
            text = "".join(ch * 2 for ch in text)
        if len(text) == 6:
            text += "ff"
        r, g, b, a = (int(text[i : i + 2], 16) for i in range(0, 8, 2))
        return (r, g, b, a)
    names = ", ".join(_NAMED_COLOURS)
    raise TransformError(
        param,
        f"{param} must be a hex colour (RGB, RGBA, RRGGBB or RRGGBBAA) or one of {names} "
        f"(got {show(raw)})",
    )


def _collect(params: Mapping[str, str], unknown: list[str]) -> dict[str, tuple[str, str]]:
    """Canonical name -> (name as given, value); names we do not know go to ``unknown``."""
    found: dict[str, tuple[str, str]] = {}
    for key, value in params.items():
        given = key.strip().lower()
        name = _ALIASES.get(given)
        if name is None:
            if given not in CONTROL_PARAMS:
                unknown.append(key)
            continue
        if name in found and found[name][1].strip() != value.strip():
            raise TransformError(
                given, f"{found[name][0]} and {given} are the same parameter with different values"
            )
        found[name] = (given, value)
    return found


def _control(params: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in params.items() if k.strip().lower() == name), None)


def parse_transform(
    params: Mapping[str, str],
    *,
    max_dimension: int = 8192,
    max_dpr: float = 4.0,
    presets: Mapping[str, Mapping[str, str]] | None = None,
) -> TransformSpec:
    """Parse RIAPI query parameters into a normalised :class:`TransformSpec`.

    Unknown parameters are ignored, or refused with ``UNKNOWN_PARAMETER`` under ``strict=true``.
    Keys are case-insensitive; an alias pair given twice with different values
    (``w=1&width=2``) is an error. ``preset=name`` starts from the parameters of the named
    preset in ``presets``; parameters in the URL override the preset's.
    """
    unknown: list[str] = []
    found = _collect(params, unknown)
    strict_raw = _control(params, "strict")
    if strict_raw is not None:
        strict = parse_choice("strict", strict_raw, _BOOLEANS, "true or false")
        if strict and unknown:
            names = ", ".join(sorted(dict.fromkeys(unknown)))
            raise TransformError(
                unknown[0],
                f"unknown parameter{'s' if len(set(unknown)) > 1 else ''} {names} "
                "(strict=true refuses parameters the server does not read)",
                code="UNKNOWN_PARAMETER",
                params=tuple(sorted(dict.fromkeys(unknown))),
            )
    preset_raw = _control(params, "preset")
    if preset_raw is not None:
        known = presets or {}
        preset = known.get(preset_raw.strip().lower())
        if preset is None:
            raise TransformError(
                "preset",
                f"preset must be one of {', '.join(known) or 'the configured presets'} "
                f"(got {show(preset_raw)})",
            )
        found = {**_collect(preset, []), **found}

    def get(name: str) -> tuple[str, str] | None:
        return found.get(name)

    width = height = None
    if (item := get("w")) is not None:
        width = parse_int(item[0], item[1], 1, max_dimension)
    if (item := get("h")) is not None:
        height = parse_int(item[0], item[1], 1, max_dimension)

    if (item := get("dpr")) is not None:
        dpr = _parse_dpr(item[0], item[1], max_dpr)
        scaled = [None if d is None else math.floor(d * dpr + 0.5) for d in (width, height)]
        if any(d is not None and d > max_dimension for d in scaled):
            raise TransformError(
                item[0],
                f"{item[0]} makes the image larger than {max_dimension} pixels; "
                f"lower w, h or {item[0]}",
            )
        width, height = scaled

    mode: Mode = "max"
    if (item := get("mode")) is not None:
        mode = parse_choice(item[0], item[1], _MODES, "max, pad, crop or stretch")
    scale: Scale = "down"
    if (item := get("scale")) is not None:
        scale = parse_choice(item[0], item[1], _SCALES, "down, both or canvas")
    anchor: Anchor | None = None
    if (item := get("anchor")) is not None:
        anchor = parse_choice(item[0], item[1], _ANCHOR_NAMES, ", ".join(ANCHORS))
    gravity = None
    if (item := get("c.gravity")) is not None:
        gravity = _parse_gravity(item[0], item[1])
    fmt: FormatParam | None = None
    if (item := get("format")) is not None:
        fmt = parse_choice(item[0], item[1], _FORMATS, "auto, webp, avif, jpeg (jpg) or png")
    quality = None
    if (item := get("quality")) is not None:
        quality = parse_int(item[0], item[1], 1, 100)
    bgcolor = None
    if (item := get("bgcolor")) is not None:
        bgcolor = _parse_colour(item[0], item[1])

    return TransformSpec(
        width=width,
        height=height,
        mode=mode,
        scale=scale,
        anchor=anchor,
        gravity=gravity,
        format=fmt,
        quality=quality,
        bgcolor=bgcolor,
        effects=parse_effects(found),
    )


# --------------------------------------------------------------------------------------------
# Format negotiation


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
        explicit = _FORMATS.get(spec_format.lower())
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


# --------------------------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class Layout:
    """Where the pixels go: resize the source, cut a window from it, place it on a canvas.

    1. resize the (upright) source to ``resize_width`` x ``resize_height``;
    2. crop the window ``crop_left, crop_top, crop_width, crop_height`` out of that;
    3. place the window at ``pad_left, pad_top`` on a ``width`` x ``height`` canvas.
    """

    resize_width: int
    resize_height: int
    crop_left: int
    crop_top: int
    crop_width: int
    crop_height: int
    width: int
    height: int
    pad_left: int
    pad_top: int

    @property
    def crops(self) -> bool:
        return (self.crop_width, self.crop_height) != (self.resize_width, self.resize_height)

    @property
    def pads(self) -> bool:
        return (self.crop_width, self.crop_height) != (self.width, self.height)


def _round(value: float) -> int:
    return max(1, math.floor(value + 0.5))


def _clamp01(value: float) -> float:
    return 0.5 if math.isnan(value) else min(1.0, max(0.0, value))


def plan_layout(
    spec: TransformSpec,
    source_width: int,
    source_height: int,
    focal: tuple[float, float] = (0.5, 0.5),
) -> Layout:
    """The geometry ``spec`` produces for an upright source of the given size.

    ``focal`` is the image's stored focal point (fractions 0..1); ``mode=crop`` centres on it
    unless the spec carries a gravity (from ``c.gravity`` or ``anchor``).
    """
    sw, sh = max(1, source_width), max(1, source_height)
    w, h = spec.width, spec.height
    if w is None and h is None:
        return Layout(sw, sh, 0, 0, sw, sh, sw, sh, 0, 0)

    fit = False
    if w is None or h is None or spec.mode == "max":
        if w is None:
            s = h / sh if h is not None else 1.0
        elif h is None:
            s = w / sw
        else:
            s = min(w / sw, h / sh)
        sx = sy = s
        box_w, box_h = sw * s, sh * s
        fit = True
    else:
        box_w, box_h = float(w), float(h)
        if spec.mode == "pad":
            sx = sy = min(w / sw, h / sh)
        elif spec.mode == "crop":
            sx = sy = max(w / sw, h / sh)
        else:  # stretch
            sx, sy = w / sw, h / sh
            fit = True

    up = max(sx, sy)
    canvas_grows = False
    if up > 1.0 and spec.scale == "down":
        # Never enlarge: shrink the whole box so that the image lands at (at most) 1:1.
        sx, sy, box_w, box_h = sx / up, sy / up, box_w / up, box_h / up
    elif up > 1.0 and spec.scale == "canvas":
        sx, sy = min(sx, 1.0), min(sy, 1.0)
        canvas_grows = True

    out_w, out_h = _round(box_w), _round(box_h)
    if fit and not canvas_grows:
        img_w, img_h = out_w, out_h  # the image is the box: no 1px rounding disagreements
    else:
        img_w, img_h = _round(sw * sx), _round(sh * sy)
    crop_w, crop_h = min(out_w, img_w), min(out_h, img_h)

    if spec.mode == "crop" and spec.gravity is None:
        fx, fy = _clamp01(focal[0]), _clamp01(focal[1])
    elif spec.gravity is not None:
        fx, fy = spec.gravity[0] / 100.0, spec.gravity[1] / 100.0
    else:
        fx = fy = 0.5
    # Centre the window on the focal point, then clamp it inside the image.
    left = min(max(0, math.floor(fx * img_w - crop_w / 2 + 0.5)), img_w - crop_w)
    top = min(max(0, math.floor(fy * img_h - crop_h / 2 + 0.5)), img_h - crop_h)

    if spec.anchor is not None:
        px, py = ANCHORS[spec.anchor]
    elif spec.gravity is not None:
        px, py = spec.gravity[0] / 100.0, spec.gravity[1] / 100.0
    else:
        px = py = 0.5
    pad_left = math.floor((out_w - crop_w) * px + 0.5)
    pad_top = math.floor((out_h - crop_h) * py + 0.5)

    return Layout(img_w, img_h, left, top, crop_w, crop_h, out_w, out_h, pad_left, pad_top)


def output_size(spec: TransformSpec, source_width: int, source_height: int) -> tuple[int, int]:
    """Width and height of the image ``spec`` renders from an upright source of this size
    (at most: ``trim.threshold`` can only make the source smaller)."""
    if spec.effects.srotate in (90, 270):
        source_width, source_height = source_height, source_width
    layout = plan_layout(spec, source_width, source_height)
    if spec.effects.rotate in (90, 270):
        return layout.height, layout.width
    return layout.width, layout.height


def check_output_size(
    spec: TransformSpec, source_width: int, source_height: int, *, max_dimension: int
) -> tuple[int, int]:
    """The output size of ``spec`` for this source, refused when a transform would make it
    longer than ``max_dimension`` on a side the source itself is not already that long on.

    ``w`` and ``h`` are each capped when parsed, but with only one of them and ``scale=both``
    or ``scale=canvas`` the other side follows the source's shape: ``w=4096&scale=both`` on a
    1x40000 source asks for 4096x163840000 pixels. ``scale=down`` never exceeds the source.
    """
    width, height = output_size(spec, source_width, source_height)
    if width <= max(max_dimension, source_width) and height <= max(max_dimension, source_height):
        return width, height
    param = "w" if spec.width is not None else "h"
    asked = spec.width if spec.width is not None else spec.height
    raise TransformError(
        param,
        f"{param}={asked} with scale={spec.scale} makes this {source_width}x{source_height} "
        f"image {width}x{height} pixels, more than {max_dimension} on a side; "
        "give both w and h, lower " + param + ", or use scale=down",
    )
