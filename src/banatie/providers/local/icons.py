"""OpenMoji pictures rasterised by libvips (librsvg), restyled by rewriting the SVG first.

Every OpenMoji SVG has a `color` group (flat fills) and a `line` group (black 2-unit strokes on a
72x72 grid), so a template's look is a few attribute rewrites: thicker or hidden outlines, an ink
colour, one fill colour, or the whole shape in one colour grown by a wide stroke (a sticker's
die-cut border, a shadow).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyvips

from banatie.providers.local.subjects import svg_bytes

RGBA = npt.NDArray[np.float32]

_GRID = 72  # OpenMoji's viewBox side
_STROKE_WIDTH_RE = re.compile(r'stroke-width="([0-9.]+)"')
_BLACK_RE = re.compile(r'(fill|stroke)="#0{3}(?:0{3})?"', re.IGNORECASE)
_FILL_RE = re.compile(r'fill="#[0-9a-f]{3,6}"', re.IGNORECASE)


@dataclass(frozen=True)
class IconStyle:
    outline: float = 1.0  # stroke width factor; 0 hides the outline
    ink: str | None = None  # outline colour "#rrggbb"; None keeps black
    fill: str | None = None  # one colour for every fill; None keeps OpenMoji's colours
    silhouette: str | None = None  # the whole shape in this colour (ignores the others)
    grow: float = 0.0  # with `silhouette`: widen the shape by this many grid units


def restyle(svg: str, style: IconStyle) -> str:
    if style.silhouette is not None:
        width = max(0.01, style.grow * 2)
        rule = (
            f"*{{fill:{style.silhouette} !important;stroke:{style.silhouette} !important;"
            f"stroke-width:{width:.2f}px !important;stroke-linejoin:round;"
            "stroke-linecap:round}"
        )
        return svg.replace(">", f"><style>{rule}</style>", 1)
    if style.fill is not None:
        # keep the outline's black, repaint every other fill
        svg = _BLACK_RE.sub(lambda m: f'{m.group(1)}="#__ink__"', svg)
        svg = _FILL_RE.sub(f'fill="{style.fill}"', svg)
        svg = svg.replace("#__ink__", "#000000")
    if style.outline == 0:
        svg = svg.replace('<g id="line"', '<g id="line" opacity="0"', 1)
    elif style.outline != 1:
        svg = _STROKE_WIDTH_RE.sub(
            lambda m: f'stroke-width="{float(m.group(1)) * style.outline:.3f}"', svg
        )
    if style.ink is not None:
        svg = _BLACK_RE.sub(lambda m: f'{m.group(1)}="{style.ink}"', svg)
    return svg


@lru_cache(maxsize=64)
def _raster(char: str, size: int, style: IconStyle) -> RGBA:
    svg = restyle(svg_bytes(char).decode("utf-8"), style)
    image = pyvips.Image.svgload_buffer(svg.encode("utf-8"), scale=size / _GRID)
    if image.bands != 4:
        image = image.bandjoin(255)
    pixels = np.asarray(image.numpy(), dtype=np.float32)[:size, :size] / np.float32(255.0)
    pixels.setflags(write=False)  # shared by every caller of the cache
    return pixels


def raster(char: str, size: int, style: IconStyle = IconStyle()) -> RGBA:
    """The emoji as straight RGBA float32 (size, size, 4) in 0..1: OpenMoji's 72-unit grid
    scaled to `size` pixels. Read-only: the same picture is shared between renders."""
    return _raster(char, size, style)


def content_box(alpha: npt.NDArray[np.float32]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the visible pixels; the whole square when nothing shows."""
    rows = np.nonzero(alpha.max(axis=1) > 0.02)[0]
    cols = np.nonzero(alpha.max(axis=0) > 0.02)[0]
    if len(rows) == 0:
        return 0, 0, alpha.shape[1], alpha.shape[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


__all__ = ["IconStyle", "content_box", "raster", "restyle"]
