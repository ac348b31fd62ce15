"""The pixel work of :mod:`banatie.delivery.effects` with libvips (called by the renderer).

Three stages, in RIAPI's order: :func:`before_resize` (trim, srotate, sflip on the decoded
source; the focal point moves with the pixels), :func:`adjust` (sharpen, blur, saturation,
brightness, contrast on the resized window, before padding, so padding keeps ``bgcolor``) and
:func:`after_layout` (rotate, flip, watermark on the finished canvas).
"""

from __future__ import annotations

from typing import Final

import pyvips

from banatie.delivery.effects import Effects, Flip, Watermark
from banatie.delivery.riapi import ANCHORS, Anchor

__all__ = ["adjust", "after_layout", "before_resize", "load_watermark"]

#: Rec. 601 luma weights: what "grey" means for s.saturation=-1.
_LUMA: Final = (0.299, 0.587, 0.114)
_ROTATIONS: Final = {90: "d90", 180: "d180", 270: "d270"}
#: Gap between a watermark and the edges, as a fraction of the output's shorter side.
WATERMARK_MARGIN: Final = 0.02

Point = tuple[float, float]


def _rotate(image: pyvips.Image, degrees: int) -> pyvips.Image:
    return image.rot(_ROTATIONS[degrees]) if degrees else image


def _flip(image: pyvips.Image, flip: Flip | None) -> pyvips.Image:
    if flip == "x":
        return image.flip("horizontal")
    if flip == "y":
        return image.flip("vertical")
    if flip == "xy":
        return image.rot("d180")
    return image


def _rotate_point(point: Point, degrees: int) -> Point:
    x, y = point
    if degrees == 90:  # clockwise: the left edge becomes the top
        return (1.0 - y, x)
    if degrees == 180:
        return (1.0 - x, 1.0 - y)
    if degrees == 270:
        return (y, 1.0 - x)
    return point


def _flip_point(point: Point, flip: Flip | None) -> Point:
    x, y = point
    if flip in ("x", "xy"):
        x = 1.0 - x
    if flip in ("y", "xy"):
        y = 1.0 - y
    return (x, y)


def _trim(image: pyvips.Image, threshold: int, focal: Point) -> tuple[pyvips.Image, Point]:
    """Cut borders whose colour is within ``threshold`` of the top-left pixel's."""
    colour = image.extract_band(0, n=image.bands - 1) if image.hasalpha() else image
    background = list(colour(0, 0))
    left, top, width, height = colour.find_trim(threshold=float(threshold), background=background)
    if width <= 0 or height <= 0:  # the whole image is the border colour: keep it
        return image, focal
    fx = (focal[0] * image.width - left) / width
    fy = (focal[1] * image.height - top) / height
    return image.extract_area(left, top, width, height), (fx, fy)


def before_resize(
    image: pyvips.Image, effects: Effects, focal: Point
) -> tuple[pyvips.Image, Point]:
    """trim, srotate, sflip on the upright decoded source, moving ``focal`` along."""
    if effects.trim is not None:
        image, focal = _trim(image, effects.trim, focal)
    image = _rotate(image, effects.srotate)
    focal = _rotate_point(focal, effects.srotate)
    image = _flip(image, effects.sflip)
    return image, _flip_point(focal, effects.sflip)


def _contrast_factor(contrast: float) -> float:
    # -1 flattens to mid grey, 0 keeps, 1 is a hard threshold (a steep but finite slope).
    return 1.0 + contrast if contrast <= 0 else 1.0 / max(0.01, 1.0 - contrast)


def adjust(image: pyvips.Image, effects: Effects) -> pyvips.Image:
    """sharpen, blur, saturation, brightness and contrast, in sRGB; alpha is left as it is."""
    if not effects.filters:
        return image
    grey = image.bands < 3
    if image.format != "uchar":
        image = image.colourspace("b-w" if grey else "srgb")
    interpretation = "b-w" if grey else "srgb"
    alpha = None
    if image.hasalpha():
        alpha = image.extract_band(image.bands - 1)
        image = image.extract_band(0, n=image.bands - 1)
    image = image.copy(interpretation=interpretation)
    if effects.sharpen:
        # 1..99 percent -> the strength of the sharpening in flat areas and on edges.
        amount = effects.sharpen / 25.0
        image = image.sharpen(sigma=1.0, m1=amount / 2, m2=amount)
    if effects.blur:
        image = image.gaussblur(effects.blur)
    if effects.saturation and not grey:
        s = 1.0 + effects.saturation
        matrix = [
            [(1.0 - s) * _LUMA[col] + (s if row == col else 0.0) for col in range(3)]
            for row in range(3)
        ]
        image = image.recomb(pyvips.Image.new_from_array(matrix))
    if effects.brightness or effects.contrast:
        factor = _contrast_factor(effects.contrast)
        offset = 128.0 * (1.0 - factor) + 255.0 * effects.brightness
        image = image.linear(factor, offset)
    image = (image + 0.5).cast("uchar").copy(interpretation=interpretation)  # round, clip
    return image if alpha is None else image.bandjoin(alpha)


def load_watermark(data: bytes, width: int, height: int, mark: Watermark) -> pyvips.Image:
    """The watermark image fitted into ``mark.scale`` of an output this size, sRGB with alpha
    already multiplied by ``mark.opacity``."""
    target = max(1, round(width * mark.scale))
    logo = pyvips.Image.thumbnail_buffer(data, target, height=max(1, height), size="both")
    if logo.format != "uchar" or logo.bands < 3:
        logo = logo.colourspace("srgb").cast("uchar")
    if not logo.hasalpha():
        logo = logo.addalpha()
    if mark.opacity < 1.0:
        logo = (logo * [1.0, 1.0, 1.0, mark.opacity] + 0.5).cast("uchar")
    return logo.copy(interpretation="srgb")


def _place(image: pyvips.Image, logo: pyvips.Image, position: Anchor) -> pyvips.Image:
    margin = round(WATERMARK_MARGIN * min(image.width, image.height))
    px, py = ANCHORS[position]
    x = margin + round(max(0, image.width - 2 * margin - logo.width) * px)
    y = margin + round(max(0, image.height - 2 * margin - logo.height) * py)
    opaque = not image.hasalpha()
    if image.bands < 3:
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    out = image.composite2(logo, "over", x=x, y=y).cast("uchar")
    if opaque:  # an opaque image stays opaque (JPEG has no alpha at all)
        out = out.extract_band(0, n=3)
    return out.copy(interpretation="srgb")


def after_layout(
    image: pyvips.Image, effects: Effects, watermark: bytes | None = None
) -> pyvips.Image:
    """rotate, flip, then the watermark (so it is upright whatever the rotation)."""
    image = _flip(_rotate(image, effects.rotate), effects.flip)
    if effects.watermark is not None and watermark is not None:
        logo = load_watermark(watermark, image.width, image.height, effects.watermark)
        image = _place(image, logo, effects.watermark.position)
    return image
