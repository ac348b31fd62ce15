"""Output geometry: where a :class:`TransformSpec` puts the pixels of a source of a given size
(resize, crop window, padding), and the output size it makes (with its cap)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from banatie.delivery.params.spec import TransformSpec
from banatie.delivery.riapi import ANCHORS, TransformError


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
