"""How a local picture is rendered: the template's look and the namespace style's palette.

A template decides the kind of picture (a scene, a studio shot, a sticker, a comic panel, a
minimal poster) and how the subject is drawn (outline weight, flat or shaded). A style decides
the palette: its colour words, its style images' colours, or - for a style that names no colour -
a hue family derived from its text, so every image of one namespace shares a palette and two
namespaces differ. Adjectives such as pastel, neon, muted, monochrome or dark shift it.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyvips

from banatie.providers.local.scene import RGB, read_cues
from banatie.providers.ports import TEMPLATES

# The template a prompt asks for in words, when the request names none (or "general").
_TEMPLATE_WORDS: tuple[tuple[str, str], ...] = (
    ("sticker", r"\bstickers?\b|die-cut"),
    ("comic", r"\bcomics?\b|\bmanga\b|halftone|graphic novel"),
    ("product", r"product (?:photo|shot)|packshot|\bcatalog(?:ue)?\b|studio softbox"),
    ("minimalist", r"\bminimal(?:ist|istic)?\b|negative space"),
    ("photorealistic", r"photo-?realis|\bphotograph|\bphoto\b|\bdslr\b|\bbokeh\b"),
    ("illustration", r"\billustrat|\bvector\b|\bcartoon\b|\bdrawing\b"),
)


@dataclass(frozen=True)
class Look:
    template: str
    outline: float  # the subject's outline weight (1: OpenMoji's)
    shaded: bool  # photographic light and shadow rather than flat colour


LOOKS: dict[str, Look] = {
    "general": Look("general", 1.0, False),
    "illustration": Look("illustration", 1.3, False),
    "photorealistic": Look("photorealistic", 0.45, True),
    "minimalist": Look("minimalist", 0.8, False),
    "sticker": Look("sticker", 1.4, False),
    "product": Look("product", 0.45, True),
    "comic": Look("comic", 2.3, False),
}
assert set(LOOKS) == set(TEMPLATES)


def choose_look(template: str | None, text: str) -> Look:
    """The request's template; a prompt that asks for one in words wins over "general"."""
    if template and template != "general" and template in LOOKS:
        return LOOKS[template]
    lowered = text.lower()
    for name, pattern in _TEMPLATE_WORDS:
        if re.search(pattern, lowered):
            return LOOKS[name]
    return LOOKS["general"]


@dataclass(frozen=True)
class Grade:
    """A namespace style's colour treatment, applied to the background and, more lightly, to
    the subject."""

    ramp: tuple[RGB, RGB, RGB]  # dark, middle and light colours of the style's palette
    strength: float  # how far the background moves onto the ramp (0..1)
    saturation: float  # saturation factor
    lift: float  # mix towards white (pastel) when > 0, towards black (dark) when < 0
    flat: bool  # flat vector: posterised background


_MODIFIERS: tuple[tuple[str, dict[str, float]], ...] = (
    (r"pastel|soft colou?rs?|baby", {"saturation": 0.75, "lift": 0.35, "light": 0.1}),
    (r"neon|vibrant|vivid|bold colou?rs?|saturated|cyberpunk", {"saturation": 1.35}),
    (r"muted|desaturated|earthy|vintage|retro|faded|film", {"saturation": 0.6, "lift": 0.08}),
    (r"sepia", {"saturation": 0.35, "hue": 0.09}),
    (r"monochrome|black and white|b&w|greyscale|grayscale|noir", {"saturation": 0.0}),
    (r"\bdark\b|moody|gothic|night", {"lift": -0.3, "light": -0.2}),
    (r"\bwarm\b", {"hue": 0.06}),
    (r"\bcool\b|\bcold\b|icy", {"hue": 0.58}),
)
_FLAT_RE = re.compile(r"\bflat\b|\bvector\b|cel[- ]shad|\bposter\b|geometric")


def _hsl(h: float, s: float, lightness: float) -> RGB:
    return colorsys.hls_to_rgb(h % 1.0, min(1.0, max(0.0, lightness)), min(1.0, max(0.0, s)))


def _style_image_hues(images: Sequence[bytes]) -> list[tuple[float, float, float]]:
    """(hue, lightness, saturation) of each style image's average colour and of its most
    colourful region, from a tiny thumbnail."""
    out: list[tuple[float, float, float]] = []
    for data in images:
        try:
            thumb = pyvips.Image.thumbnail_buffer(data, 24, height=24).colourspace("srgb")
        except pyvips.Error:
            continue  # a style image that does not decode only loses its colour hint
        pixels = np.asarray(thumb.numpy(), dtype=np.float32)[..., :3].reshape(-1, 3) / 255.0
        mean = pixels.mean(axis=0)
        chroma = pixels.max(axis=1) - pixels.min(axis=1)
        vivid = pixels[chroma >= np.quantile(chroma, 0.8)].mean(axis=0)
        for r, g, b in (vivid, mean):
            h, lightness, s = colorsys.rgb_to_hls(float(r), float(g), float(b))
            out.append((h, lightness, s))
    return out


def grade_for(style: str | None, style_images: Sequence[bytes] = ()) -> Grade | None:
    """The colour treatment of a namespace style (None: no style, no treatment)."""
    text = (style or "").strip().lower()
    if not text and not style_images:
        return None
    cues = read_cues(text)
    options: dict[str, float] = {"saturation": 1.0, "lift": 0.0, "light": 0.0}
    hue_shift: float | None = None
    for pattern, change in _MODIFIERS:
        if re.search(pattern, text):
            for key, value in change.items():
                if key == "hue":
                    hue_shift = value
                elif key == "saturation":
                    options[key] *= value
                else:
                    options[key] += value
    sampled = _style_image_hues(style_images)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    if cues.hues:
        hues = list(cues.hues)
    elif sampled:
        hues = [h for h, _, _ in sampled]
    elif hue_shift is not None:
        hues = [hue_shift]
    else:
        hues = [digest[0] / 256.0]  # a style with no colour word still gets its own hues
    base = hues[0]
    accent = hues[1] if len(hues) > 1 else base + (0.08 if digest[1] % 2 else -0.08)
    sat = 0.55 * options["saturation"]
    mid = 0.55 + options["light"]
    ramp = (
        _hsl(base, sat * 0.9, max(0.08, mid - 0.38)),
        _hsl(accent, sat, mid),
        _hsl(base + 0.02, sat * 0.7, min(0.97, mid + 0.35)),
    )
    return Grade(
        ramp=ramp,
        strength=0.55 if sampled or cues.hues else 0.5,
        saturation=options["saturation"],
        lift=max(-0.5, min(0.5, options["lift"])),
        flat=bool(_FLAT_RE.search(text)),
    )


__all__ = ["LOOKS", "Grade", "Look", "choose_look", "grade_for"]
