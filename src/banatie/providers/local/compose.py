"""The local picture: a template's background, the prompt's subject on it, the style's colours.

Pure numpy and libvips on one float canvas; every choice comes from `SeededRandom`, so the same
inputs give the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyvips

from banatie.providers.local.icons import IconStyle, content_box, raster
from banatie.providers.local.look import Grade, Look
from banatie.providers.local.scene import (
    RGB,
    Canvas,
    Palette,
    PromptCues,
    SeededRandom,
    paint_scene,
)
from banatie.providers.local.subjects import Subject

Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Placement:
    cx: float  # the subject's centre x
    bottom: float  # where it stands
    size: float  # its box side


def _hex(colour: RGB) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, v)) * 255):02x}" for v in colour)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def _luma(colour: RGB) -> float:
    return 0.2126 * colour[0] + 0.7152 * colour[1] + 0.0722 * colour[2]


# --- backgrounds --------------------------------------------------------------------------


def _studio(c: Canvas, p: Palette) -> float:
    """A seamless studio sweep: a tinted wall curving into a lighter floor."""
    wall = _mix(p.sky_top, (0.93, 0.93, 0.93), 0.82)
    floor = _mix(p.sky_bottom, (1.0, 1.0, 1.0), 0.88)
    horizon = c.h * 0.66
    t = np.clip((c.ys - horizon * 0.4) / (c.h * 0.5), 0.0, 1.0)
    t = t * t * (3 - 2 * t)
    for ch in range(3):
        c.px[ch] = np.float32(wall[ch]) + np.float32(floor[ch] - wall[ch]) * t
    c.glow(c.w * 0.5, horizon * 0.7, c.short * 0.45, (1.0, 1.0, 1.0), 0.35)
    return c.h * 0.8


def _plain(c: Canvas, p: Palette, rnd: SeededRandom) -> float:
    """Minimalist: one pale colour and a single large, quiet shape."""
    base = _mix(p.sky_bottom, (0.96, 0.95, 0.93), 0.6)
    for ch in range(3):
        c.px[ch] = np.float32(base[ch])
    shape = _mix(base, p.accents[0], 0.22)
    c.disc(c.w * rnd.uniform(0.55, 0.75), c.h * rnd.uniform(0.3, 0.45), c.short * 0.3, shape)
    return c.h * 0.74


def _sticker_sheet(c: Canvas, p: Palette) -> float:
    """A sticker lies on a plain, light backing."""
    base = _mix(p.sky_bottom, (1.0, 1.0, 1.0), 0.78)
    for ch in range(3):
        c.px[ch] = np.float32(base[ch])
    return c.h * 0.5 + c.short * 0.32


def _comic_panel(c: Canvas, p: Palette, rnd: SeededRandom) -> float:
    """A burst of rays in two flat colours under halftone dots, in a black panel border."""
    a, b = p.accents[0], _mix(p.accents[1], (1.0, 1.0, 1.0), 0.35)
    cx, cy = c.w * 0.5, c.h * 0.48
    angle = np.arctan2(c.ys - np.float32(cy), c.xs - np.float32(cx))
    rays = rnd.randint(14, 20)
    band = (np.sin(angle * np.float32(rays) + np.float32(rnd.uniform(0, math.pi))) > 0).astype(
        np.float32
    )
    for ch in range(3):
        c.px[ch] = np.float32(a[ch]) + np.float32(b[ch] - a[ch]) * band
    period = max(8.0, c.short / 70)
    gx = (c.xs % np.float32(period)) - np.float32(period / 2)
    gy = (c.ys % np.float32(period)) - np.float32(period / 2)
    radius = np.float32(period * 0.28)
    dots = np.clip(radius - np.sqrt(gx * gx + gy * gy) + 0.5, 0.0, 1.0)
    c.blend(dots * np.float32(0.35), (0.1, 0.08, 0.12))
    edge = max(6, int(c.short * 0.018))
    frame = np.ones((c.h, c.w), dtype=np.float32)
    frame[edge:-edge, edge:-edge] = 0.0
    c.blend(frame, (0.05, 0.05, 0.05))
    return c.h * 0.5 + c.short * 0.33


def paint_background(
    c: Canvas, look: Look, cues: PromptCues, palette: Palette, rnd: SeededRandom
) -> float:
    """The template's background; returns the y the subject stands on."""
    if look.template == "product":
        return _studio(c, palette)
    if look.template == "minimalist":
        return _plain(c, palette, rnd)
    if look.template == "sticker":
        return _sticker_sheet(c, palette)
    if look.template == "comic":
        return _comic_panel(c, palette, rnd)
    ground = paint_scene(c, cues, palette, rnd)
    if look.template == "illustration":  # flat cel colour: a few tones per channel
        c.px *= np.float32(_TONES)
        np.round(c.px, out=c.px)
        c.px *= np.float32(1.0 / _TONES)
    return ground


_TONES = 6


# --- the style's colours ------------------------------------------------------------------


def apply_grade(c: Canvas, grade: Grade) -> None:
    """Move the canvas onto the style's palette: a gradient map by lightness, mixed in."""
    luma = c.px[0] * np.float32(0.2126) + c.px[1] * np.float32(0.7152)
    luma += c.px[2] * np.float32(0.0722)
    if grade.flat:  # flat vector: a few bands of colour, no gradients
        luma = np.floor(luma * np.float32(5.0)) * np.float32(0.2) + np.float32(0.1)
    dark, mid, light = grade.ramp
    low = np.clip(luma * np.float32(2.0), 0.0, 1.0)
    high = np.clip(luma * np.float32(2.0) - np.float32(1.0), 0.0, 1.0)
    strength = np.float32(0.85 if grade.flat else grade.strength)
    for ch in range(3):
        mapped = np.where(
            luma < 0.5,
            np.float32(dark[ch]) + np.float32(mid[ch] - dark[ch]) * low,
            np.float32(mid[ch]) + np.float32(light[ch] - mid[ch]) * high,
        )
        c.px[ch] += (mapped - c.px[ch]) * strength
    _tone(c.px, grade)


def _tone(px: Array, grade: Grade) -> None:
    """Saturation and pastel/dark lift, in place on planar (3, ...) pixels."""
    if grade.saturation != 1.0:
        grey = px[0] * np.float32(0.2126) + px[1] * np.float32(0.7152) + px[2] * np.float32(0.0722)
        for ch in range(3):
            px[ch] = grey + (px[ch] - grey) * np.float32(grade.saturation)
    if grade.lift > 0:
        px += (np.float32(1.0) - px) * np.float32(grade.lift)
    elif grade.lift < 0:
        px *= np.float32(1.0 + grade.lift)
    np.clip(px, 0.0, 1.0, out=px)


# --- the subject --------------------------------------------------------------------------


def _icon_style(look: Look, palette: Palette) -> IconStyle:
    if look.template == "minimalist":
        ink = _mix(palette.layers[2], (0.1, 0.1, 0.12), 0.5)
        return IconStyle(outline=look.outline, ink=_hex(ink), fill=_hex(palette.accents[0]))
    if look.shaded:
        return IconStyle(outline=look.outline, ink="#3a2e28")
    return IconStyle(outline=look.outline)


def _paste(c: Canvas, rgba: Array, x0: int, y0: int, opacity: float = 1.0) -> None:
    """Alpha-composite straight RGBA (h, w, 4) at (x0, y0), clipped to the canvas."""
    h, w = rgba.shape[:2]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(c.w, x0 + w), min(c.h, y0 + h)
    if dx0 >= dx1 or dy0 >= dy1:
        return
    part = rgba[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
    alpha = part[..., 3] * np.float32(opacity)
    for ch in range(3):
        region = c.px[ch, dy0:dy1, dx0:dx1]
        region += (part[..., ch] - region) * alpha


def _shadow(alpha: Array, blur: float, colour: RGB, strength: float) -> Array:
    """A soft shadow of a shape: its alpha blurred, in one colour."""
    image = pyvips.Image.new_from_array(np.ascontiguousarray(alpha)).gaussblur(
        max(0.5, blur), precision="approximate"
    )
    soft = np.asarray(image.numpy(), dtype=np.float32)[: alpha.shape[0], : alpha.shape[1]]
    out = np.empty((*soft.shape, 4), dtype=np.float32)
    out[..., :3] = colour
    out[..., 3] = np.clip(soft * np.float32(strength), 0.0, 1.0)
    return out


def _shade(rgba: Array) -> Array:
    """Photographic light on a flat picture: lit from the upper left, softened edges."""
    h, w = rgba.shape[:2]
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    light = np.float32(1.12) - np.float32(0.3) * (ys * 0.7 + xs * 0.3)
    out = np.array(rgba, dtype=np.float32)
    out[..., :3] = np.clip(out[..., :3] * light[..., None], 0.0, 1.0)
    image = pyvips.Image.new_from_array(np.ascontiguousarray(out)).gaussblur(
        max(0.6, w / 500), precision="approximate"
    )
    soft: Array = np.asarray(image.numpy(), dtype=np.float32)[:h, :w]
    return soft


def placement(look: Look, c: Canvas, ground: float, rnd: SeededRandom) -> Placement:
    scale = {"sticker": 0.64, "comic": 0.62, "product": 0.5, "minimalist": 0.42}
    size = c.short * scale.get(look.template, 0.5)
    if look.template in ("sticker", "comic", "product", "minimalist"):
        cx = c.w * 0.5
    else:  # a scene: the subject stands off-centre, on the ground in front
        cx = c.w * rnd.choice((0.36, 0.5, 0.64))
    return Placement(cx, ground, size)


def draw_subject(
    c: Canvas,
    subject: Subject,
    look: Look,
    palette: Palette,
    where: Placement,
    grade: Grade | None,
) -> None:
    size = max(8, int(where.size))
    icon = raster(subject.char, size, _icon_style(look, palette))
    x0b, y0b, x1b, y1b = content_box(icon[..., 3])
    left = int(where.cx - (x0b + x1b) / 2)
    top = int(where.bottom - y1b)
    top = max(int(c.h * 0.04) - y0b, min(top, c.h - y1b))
    if look.template == "sticker":
        grow = 3.2
        border = raster(subject.char, size, IconStyle(silhouette="#ffffff", grow=grow))
        shadow = _shadow(border[..., 3], size * 0.02, (0.1, 0.1, 0.15), 0.45)
        _paste(c, shadow, left + int(size * 0.015), top + int(size * 0.03))
        _paste(c, border, left, top)
    elif look.template in ("product", "photorealistic", "general", "illustration"):
        # a soft contact shadow on the ground, squashed under the subject
        w = (x1b - x0b) * 0.45
        cy = top + y1b
        c.glow(where.cx, cy, max(2.0, w * 0.5), (0.0, 0.0, 0.0), 0.28 if look.shaded else 0.18)
    if look.template == "product":
        reflection = np.array(icon[::-1], dtype=np.float32)
        fade = np.linspace(0.0, 1.0, reflection.shape[0], dtype=np.float32) * 2.2 - 1.2
        reflection[..., 3] *= np.clip(fade, 0.0, 1.0)[:, None] * np.float32(0.25)
        _paste(c, reflection, left, top + 2 * y1b - size)
    if look.shaded:
        icon = _shade(icon)
    if grade is not None and (grade.saturation != 1.0 or grade.lift != 0.0):
        planar = np.ascontiguousarray(np.moveaxis(np.array(icon[..., :3]), -1, 0))
        _tone(planar, Grade(grade.ramp, 0.0, grade.saturation, grade.lift * 0.6, grade.flat))
        icon = np.concatenate([np.moveaxis(planar, 0, -1), icon[..., 3:]], axis=-1)
    _paste(c, icon, left, top)


__all__ = ["Placement", "apply_grade", "draw_subject", "paint_background", "placement"]
