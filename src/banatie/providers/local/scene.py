"""Seeded scene rendering for the local synthesizer (pure numpy, no I/O).

A prompt picks a palette (colour words and mood words such as "sunset", "night", "forest", in a
few languages) and a layout (landscape, waves, abstract); everything else - positions, sizes,
ridge shapes - comes from `SeededRandom`, a tiny hash-based generator whose stream never changes
between numpy versions, so the same inputs always give the same pixels.
"""

from __future__ import annotations

import colorsys
import dataclasses
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
RGB = tuple[float, float, float]
T = TypeVar("T")


class SeededRandom:
    """Deterministic uniform numbers from SHA-256(seed || counter): stable across versions."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0
        self._pool: list[float] = []

    def random(self) -> float:
        if not self._pool:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._pool = [
                int.from_bytes(block[i : i + 8], "big") / 2.0**64 for i in range(0, 32, 8)
            ]
        return self._pool.pop()

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high], both ends included."""
        return min(high, low + int(self.random() * (high - low + 1)))

    def choice(self, items: Sequence[T]) -> T:
        return items[min(len(items) - 1, int(self.random() * len(items)))]


# --- palette ------------------------------------------------------------------------------

# Hue (0..1) of colour words, in English and a few other languages. Cyrillic entries are stems
# (matched as prefixes) so inflected forms ("красная", "синего") match too.
_COLOUR_HUES: dict[str, float] = {
    "red": 0.0, "crimson": 0.97, "scarlet": 0.01, "orange": 0.07, "amber": 0.1,
    "yellow": 0.15, "gold": 0.12, "golden": 0.12, "lime": 0.25, "green": 0.33,
    "emerald": 0.4, "mint": 0.42, "teal": 0.48, "turquoise": 0.47, "cyan": 0.5,
    "aqua": 0.5, "blue": 0.6, "azure": 0.57, "navy": 0.63, "indigo": 0.69, "purple": 0.77,
    "violet": 0.75, "lavender": 0.74, "magenta": 0.85, "pink": 0.92, "rose": 0.95,
    "brown": 0.07, "coral": 0.03,
    # es / pt / it / fr / de
    "rojo": 0.0, "roja": 0.0, "rosso": 0.0, "rossa": 0.0, "rouge": 0.0, "rot": 0.0,
    "vermelho": 0.0, "naranja": 0.07, "arancione": 0.07, "laranja": 0.07,
    "amarillo": 0.15, "amarilla": 0.15, "giallo": 0.15, "jaune": 0.15, "gelb": 0.15,
    "amarelo": 0.15, "verde": 0.33, "vert": 0.33, "grün": 0.33, "gruen": 0.33,
    "azul": 0.6, "blu": 0.6, "azzurro": 0.57, "bleu": 0.6, "blau": 0.6,
    "morado": 0.77, "viola": 0.77, "roxo": 0.77, "lila": 0.77, "rosa": 0.92,
    "marrón": 0.07, "marron": 0.07, "braun": 0.07,
    # ru / uk stems
    "красн": 0.0, "червон": 0.0, "оранж": 0.07, "помаранч": 0.07, "жёлт": 0.15,
    "желт": 0.15, "жовт": 0.15, "золот": 0.12, "зелён": 0.33, "зелен": 0.33,
    "бирюз": 0.47, "голуб": 0.56, "блакит": 0.56, "син": 0.62, "фиолет": 0.77,
    "фіолет": 0.77, "пурпур": 0.82, "розов": 0.92, "рожев": 0.92, "коричн": 0.07,
}  # fmt: skip
_NEUTRALS: dict[str, float] = {
    # word -> lightness of a desaturated palette
    "black": 0.12, "dark": 0.18, "noir": 0.12, "negro": 0.12, "nero": 0.12,
    "schwarz": 0.12, "preto": 0.12, "чёрн": 0.12, "черн": 0.12, "чорн": 0.12,
    "white": 0.9, "blanc": 0.9, "blanco": 0.9, "bianco": 0.9, "weiß": 0.9, "weiss": 0.9,
    "branco": 0.9, "белы": 0.9, "бела": 0.9, "бело": 0.9, "біл": 0.9, "grey": 0.55,
    "gray": 0.55, "gris": 0.55, "grigio": 0.55, "grau": 0.55, "cinza": 0.55, "серы": 0.55,
    "сера": 0.55, "серо": 0.55, "сір": 0.55,
    "monochrome": 0.5,
}  # fmt: skip


def colour_words() -> tuple[str, ...]:
    """The colour and neutral words the palette understands (stems for Cyrillic)."""
    return tuple(k for k in (*_COLOUR_HUES, *_NEUTRALS) if len(k) >= 3)


_THEME_WORDS: dict[str, tuple[str, ...]] = {
    "sunset": (
        "sunset", "sunrise", "dusk", "dawn", "golden hour", "twilight", "закат", "рассвет",
        "захід", "світанок", "atardecer", "amanecer", "coucher", "crépuscule", "aube",
        "sonnenuntergang", "sonnenaufgang", "tramonto", "alba", "pôr do sol", "entardecer",
    ),
    "night": (
        "night", "moon", "star", "stars", "galaxy", "cosmos", "midnight", "ночь",
        "ночн", "луна", "звезд", "космос", "ніч", "місяць", "noche", "luna", "estrellas",
        "nuit", "lune", "étoiles", "nacht", "mond", "sterne", "notte", "stelle", "noite", "lua",
        "夜", "星", "月", "밤",
    ),
    "forest": (
        "forest", "jungle", "tree", "trees", "woods", "meadow", "leaf", "leaves", "лес",
        "дерев", "ліс", "bosque", "selva", "forêt", "foret", "wald", "bosco", "foresta",
        "floresta", "árvore", "森", "林", "树", "숲",
    ),
    "ocean": (
        "ocean", "sea", "beach", "wave", "waves", "water", "lake", "river", "surf", "море",
        "океан", "пляж", "волн", "озер", "mar", "playa", "océano", "mer", "plage", "océan",
        "meer", "strand", "mare", "spiaggia", "oceano", "praia", "lago", "seaside", "coast",
        "harbour", "harbor", "海", "浜", "바다",
    ),
    "desert": ("desert", "dune", "dunes", "sand", "sahara", "пустын", "песок", "desierto",
               "désert", "wüste", "deserto", "areia", "arena"),
    "winter": ("snow", "winter", "ice", "frost", "glacier", "arctic", "снег", "зима", "лёд",
               "лед", "сніг", "nieve", "invierno", "neige", "hiver", "schnee", "neve", "inverno",
               "снеж", "заснеж", "nevad*", "enneig*", "verschneit*", "innevat*", "blizzard",
               "雪", "冬", "눈"),
    "autumn": ("autumn", "fall", "осень", "осін", "otoño", "automne", "herbst", "autunno",
               "outono"),
    "city": ("city", "town", "street", "skyline", "downtown", "urban", "metropolis",
             "skyscraper", "город", "улиц", "мiст", "ciudad", "calle", "ville", "rue", "stadt",
             "straße", "città", "strada", "cidade", "rua", "街", "都市", "城市", "도시"),
    "neon": ("neon", "cyberpunk", "synthwave", "vaporwave", "futuristic", "cyber", "неон",
             "киберпанк"),
    "spring": ("spring", "flower", "flowers", "blossom", "garden", "cherry", "весна", "цветок",
               "цветы", "цветущ", "квіт", "primavera", "flor", "flores", "fleur", "fleurs",
               "printemps", "blume", "blumen", "frühling", "fiori"),
}  # fmt: skip

_THEME_PRIORITY = (
    "sunset", "night", "neon", "winter", "autumn", "spring", "desert", "forest", "ocean",
    "city",
)  # fmt: skip

_LANDSCAPE_WORDS = (
    "landscape", "mountain", "mountains", "hill", "hills", "valley", "field", "countryside",
    "горы", "гора", "горн", "холм", "пейзаж", "долин", "поле", "montaña", "paisaje", "montagne",
    "paysage", "berg", "berge", "landschaft", "montagna", "paesaggio", "montanha", "paisagem",
)  # fmt: skip

_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def _hsl(h: float, s: float, lightness: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, max(0.0, min(1.0, lightness)), max(0.0, min(1.0, s)))
    return (r, g, b)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


@dataclass(frozen=True)
class Palette:
    sky_top: RGB
    sky_bottom: RGB
    sun: RGB
    layers: tuple[RGB, RGB, RGB]  # far -> near
    accents: tuple[RGB, RGB, RGB]
    night: bool = False


@dataclass(frozen=True)
class PromptCues:
    hues: tuple[float, ...]
    neutral: float | None
    themes: tuple[str, ...]  # every theme mentioned, in _THEME_PRIORITY order
    landscape: bool

    @property
    def theme(self) -> str | None:
        """The palette theme: light and season beat places ("beach at sunset" is a sunset)."""
        return self.themes[0] if self.themes else None


def _matches(word: str, key: str) -> bool:
    # Cyrillic and Hangul keys are stems (case endings and particles follow); Latin keys match
    # whole words, plurals and adjectives made from them ("snowy", "starry", "forested").
    if key[0] >= "\u0400":
        return word.startswith(key)
    if key.endswith("*"):  # a Latin stem: "verschneit*" matches "verschneiten"
        return word.startswith(key[:-1])
    if word in (key, key + "s", key + "es"):
        return True
    return len(key) >= 4 and word.startswith(key) and word[len(key) :] in _DERIVED


_DERIVED = frozenset(("y", "ry", "ny", "ed", "ly", "lit", "time", "fall", "flakes", "scape"))
# Scripts written without spaces: a key is found anywhere in the text.
_DENSE_KEY_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def read_cues(prompt: str) -> PromptCues:
    text = prompt.lower()
    words = _WORD_RE.findall(text)
    hues: list[float] = []
    neutral: float | None = None
    for word in words:
        for key, hue in _COLOUR_HUES.items():
            if _matches(word, key):
                if hue not in hues:
                    hues.append(hue)
                break
        else:
            if neutral is None:
                for key, light in _NEUTRALS.items():
                    if _matches(word, key):
                        neutral = light
                        break
    found = {
        name
        for name, keys in _THEME_WORDS.items()
        for key in keys
        if (
            key in text
            if " " in key or _DENSE_KEY_RE.match(key)
            else any(_matches(w, key) for w in words)
        )
    }
    themes = tuple(name for name in _THEME_PRIORITY if name in found)
    landscape = any(_matches(w, key) for w in words for key in _LANDSCAPE_WORDS)
    return PromptCues(tuple(hues), neutral, themes, landscape)


def _themed_palette(theme: str, rnd: SeededRandom) -> Palette:
    j = rnd.uniform(-0.02, 0.02)  # a little hue jitter so two sunsets differ
    if theme == "sunset":
        return Palette(
            sky_top=_hsl(0.74 + j, 0.45, 0.28),
            sky_bottom=_hsl(0.06 + j, 0.95, 0.66),
            sun=_hsl(0.12 + j, 1.0, 0.78),
            layers=(_hsl(0.88 + j, 0.3, 0.45), _hsl(0.8 + j, 0.3, 0.3), _hsl(0.75 + j, 0.35, 0.16)),
            accents=(_hsl(0.95, 0.8, 0.7), _hsl(0.1, 0.9, 0.65), _hsl(0.8, 0.5, 0.6)),
        )
    if theme == "night":
        return Palette(
            sky_top=_hsl(0.65 + j, 0.6, 0.07),
            sky_bottom=_hsl(0.7 + j, 0.45, 0.25),
            sun=_hsl(0.14, 0.4, 0.9),
            layers=(_hsl(0.67 + j, 0.3, 0.2), _hsl(0.68 + j, 0.35, 0.13), _hsl(0.7, 0.4, 0.07)),
            accents=(_hsl(0.55, 0.8, 0.6), _hsl(0.78, 0.7, 0.6), _hsl(0.14, 0.6, 0.75)),
            night=True,
        )
    if theme == "forest":
        return Palette(
            sky_top=_hsl(0.55 + j, 0.5, 0.72),
            sky_bottom=_hsl(0.2 + j, 0.5, 0.86),
            sun=_hsl(0.15, 0.9, 0.85),
            layers=(
                _hsl(0.36 + j, 0.3, 0.55),
                _hsl(0.38 + j, 0.45, 0.33),
                _hsl(0.4 + j, 0.5, 0.18),
            ),
            accents=(_hsl(0.25, 0.6, 0.55), _hsl(0.12, 0.7, 0.6), _hsl(0.42, 0.5, 0.4)),
        )
    if theme == "ocean":
        return Palette(
            sky_top=_hsl(0.58 + j, 0.7, 0.55),
            sky_bottom=_hsl(0.52 + j, 0.5, 0.85),
            sun=_hsl(0.13, 1.0, 0.85),
            layers=(_hsl(0.52 + j, 0.6, 0.55), _hsl(0.56 + j, 0.7, 0.4), _hsl(0.6 + j, 0.75, 0.25)),
            accents=(_hsl(0.48, 0.7, 0.75), _hsl(0.12, 0.5, 0.8), _hsl(0.55, 0.6, 0.9)),
        )
    if theme == "desert":
        return Palette(
            sky_top=_hsl(0.57 + j, 0.55, 0.62),
            sky_bottom=_hsl(0.1 + j, 0.6, 0.85),
            sun=_hsl(0.13, 1.0, 0.8),
            layers=(
                _hsl(0.09 + j, 0.5, 0.72),
                _hsl(0.08 + j, 0.55, 0.58),
                _hsl(0.06 + j, 0.55, 0.42),
            ),
            accents=(_hsl(0.07, 0.7, 0.6), _hsl(0.12, 0.8, 0.7), _hsl(0.03, 0.5, 0.5)),
        )
    if theme == "winter":
        return Palette(
            sky_top=_hsl(0.6 + j, 0.45, 0.7),
            sky_bottom=_hsl(0.58 + j, 0.3, 0.93),
            sun=_hsl(0.12, 0.5, 0.95),
            layers=(_hsl(0.6 + j, 0.25, 0.85), _hsl(0.6 + j, 0.3, 0.75), _hsl(0.62 + j, 0.3, 0.6)),
            accents=(_hsl(0.55, 0.5, 0.9), _hsl(0.6, 0.4, 0.8), _hsl(0.0, 0.0, 1.0)),
        )
    if theme == "autumn":
        return Palette(
            sky_top=_hsl(0.58 + j, 0.35, 0.65),
            sky_bottom=_hsl(0.1 + j, 0.6, 0.82),
            sun=_hsl(0.11, 0.9, 0.75),
            layers=(
                _hsl(0.08 + j, 0.55, 0.58),
                _hsl(0.05 + j, 0.6, 0.42),
                _hsl(0.03 + j, 0.55, 0.26),
            ),
            accents=(_hsl(0.08, 0.85, 0.55), _hsl(0.02, 0.7, 0.45), _hsl(0.13, 0.85, 0.55)),
        )
    if theme == "neon":
        return Palette(
            sky_top=_hsl(0.72 + j, 0.7, 0.08),
            sky_bottom=_hsl(0.85 + j, 0.7, 0.35),
            sun=_hsl(0.9, 1.0, 0.65),
            layers=(_hsl(0.78, 0.6, 0.25), _hsl(0.75, 0.6, 0.16), _hsl(0.72, 0.6, 0.08)),
            accents=(_hsl(0.5, 1.0, 0.6), _hsl(0.85, 1.0, 0.6), _hsl(0.15, 1.0, 0.6)),
            night=True,
        )
    # spring
    return Palette(
        sky_top=_hsl(0.55 + j, 0.6, 0.8),
        sky_bottom=_hsl(0.95 + j, 0.6, 0.92),
        sun=_hsl(0.14, 1.0, 0.85),
        layers=(_hsl(0.3 + j, 0.45, 0.72), _hsl(0.32 + j, 0.5, 0.55), _hsl(0.35 + j, 0.5, 0.38)),
        accents=(_hsl(0.93, 0.8, 0.78), _hsl(0.15, 0.9, 0.7), _hsl(0.8, 0.5, 0.8)),
    )


def _hue_palette(hues: Sequence[float], neutral: float | None, rnd: SeededRandom) -> Palette:
    if hues:
        base = hues[0]
        second = hues[1] if len(hues) > 1 else base + rnd.choice((0.08, -0.08, 0.5, 0.33))
    else:
        base = rnd.random()
        second = base + rnd.choice((0.08, -0.08, 0.5, 0.33, -0.33))
    third = second + rnd.choice((0.05, -0.05, 0.15))
    sat = rnd.uniform(0.45, 0.8)
    if neutral is not None and not hues:
        sat = 0.06
        light = neutral
        top_l, bottom_l = max(0.05, light - 0.12), min(0.97, light + 0.08)
        return Palette(
            sky_top=_hsl(base, sat, top_l),
            sky_bottom=_hsl(base, sat, bottom_l),
            sun=_hsl(base, sat, 0.97 if light < 0.5 else 0.3),
            layers=(
                _hsl(base, sat, light * 0.85),
                _hsl(base, sat, light * 0.65),
                _hsl(base, sat, light * 0.45),
            ),
            accents=(_hsl(base, 0.0, 0.98), _hsl(base, 0.0, 0.6), _hsl(base, 0.0, 0.3)),
            night=light < 0.3,
        )
    dark = neutral is not None and neutral < 0.3
    top = _hsl(base, sat, 0.18 if dark else rnd.uniform(0.45, 0.62))
    bottom = _hsl(base + rnd.uniform(-0.06, 0.06), sat * 0.8, 0.35 if dark else 0.86)
    return Palette(
        sky_top=top,
        sky_bottom=bottom,
        sun=_hsl(second, 0.9, 0.8),
        layers=(
            _mix(_hsl(base, sat, 0.6), bottom, 0.35),
            _hsl(base + 0.03, sat, 0.42 if not dark else 0.2),
            _hsl(base + 0.06, sat, 0.26 if not dark else 0.1),
        ),
        accents=(_hsl(second, 0.85, 0.62), _hsl(third, 0.75, 0.7), _hsl(base, 0.7, 0.75)),
        night=dark,
    )


def choose_palette(cues: PromptCues, rnd: SeededRandom) -> Palette:
    if cues.theme is not None:
        palette = _themed_palette(cues.theme, rnd)
        if cues.hues:  # colour words tint the accents of a themed scene
            accents = tuple(_hsl(h, 0.85, 0.6) for h in cues.hues[:3])
            accents = (accents + palette.accents)[:3]
            palette = Palette(
                palette.sky_top,
                palette.sky_bottom,
                palette.sun,
                palette.layers,
                (accents[0], accents[1], accents[2]),
                palette.night,
            )
        return palette
    return _hue_palette(cues.hues, cues.neutral, rnd)


# --- drawing ------------------------------------------------------------------------------


class Canvas:
    """A planar float32 RGB canvas (3, height, width), 0..1: per-channel ops stay contiguous."""

    def __init__(self, width: int, height: int) -> None:
        self.w = width
        self.h = height
        self.short = min(width, height)
        self.px: Array = np.zeros((3, height, width), dtype=np.float32)
        self.xs: Array = np.arange(width, dtype=np.float32)[None, :]
        self.ys: Array = np.arange(height, dtype=np.float32)[:, None]

    def blend(
        self, alpha: Array, colour: RGB, box: tuple[int, int, int, int] | None = None
    ) -> None:
        """Paint `colour` with coverage `alpha` (2-D, 0..1) over the box (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = box if box is not None else (0, 0, self.w, self.h)
        for c in range(3):
            region = self.px[c, y0:y1, x0:x1]
            delta = region - np.float32(colour[c])
            delta *= alpha
            region -= delta

    def vertical_gradient(self, top: RGB, bottom: RGB, curve: float = 1.0) -> None:
        t = np.clip(self.ys / max(1, self.h - 1), 0.0, 1.0) ** curve
        t = t * t * (3 - 2 * t)
        for c in range(3):
            self.px[c] = top[c] + (bottom[c] - top[c]) * t

    def linear_gradient(self, a: RGB, b: RGB, angle: float) -> None:
        dx, dy = math.cos(angle), math.sin(angle)
        proj = (self.xs - self.w / 2) * np.float32(dx) + (self.ys - self.h / 2) * np.float32(dy)
        half = abs(self.w / 2 * dx) + abs(self.h / 2 * dy)
        t = np.clip(proj * np.float32(1 / (2 * half)) + np.float32(0.5), 0.0, 1.0)
        t = t * t * (3 - 2 * t)
        for c in range(3):
            np.multiply(t, np.float32(b[c] - a[c]), out=self.px[c])
            self.px[c] += np.float32(a[c])

    def _box(self, cx: float, cy: float, reach: float) -> tuple[int, int, int, int]:
        x0 = max(0, int(cx - reach))
        y0 = max(0, int(cy - reach))
        x1 = min(self.w, math.ceil(cx + reach) + 1)
        y1 = min(self.h, math.ceil(cy + reach) + 1)
        return x0, y0, x1, y1

    def _dist(self, cx: float, cy: float, box: tuple[int, int, int, int]) -> Array:
        x0, y0, x1, y1 = box
        return np.sqrt((self.xs[:, x0:x1] - cx) ** 2 + (self.ys[y0:y1] - cy) ** 2)

    def disc(
        self, cx: float, cy: float, r: float, colour: RGB, opacity: float = 1.0, soft: float = 1.5
    ) -> None:
        box = self._box(cx, cy, r + soft + 1)
        if box[0] >= box[2] or box[1] >= box[3]:
            return
        alpha = np.clip((r - self._dist(cx, cy, box)) / soft + 0.5, 0.0, 1.0) * opacity
        self.blend(alpha, colour, box)

    def crescent(self, cx: float, cy: float, r: float, colour: RGB, dx: float, dy: float) -> None:
        """A disc minus an offset disc of the same radius (a crescent moon)."""
        box = self._box(cx, cy, r + 2)
        if box[0] >= box[2] or box[1] >= box[3]:
            return
        inside = np.clip(r - self._dist(cx, cy, box) + 0.5, 0.0, 1.0)
        cut = np.clip(r * 0.92 - self._dist(cx + dx, cy + dy, box) + 0.5, 0.0, 1.0)
        self.blend(inside * (1.0 - cut), colour, box)

    def cloud(
        self, puffs: Sequence[tuple[float, float, float]], colour: RGB, base: float, opacity: float
    ) -> None:
        """The union of soft discs (one silhouette, no darker overlaps), cut flat at `base`."""
        reach = max(r for _, _, r in puffs)
        x0 = max(0, int(min(x for x, _, _ in puffs) - reach - 2))
        x1 = min(self.w, math.ceil(max(x for x, _, _ in puffs) + reach + 2))
        y0 = max(0, int(min(y for _, y, _ in puffs) - reach - 2))
        y1 = min(self.h, math.ceil(base) + 2)
        if x0 >= x1 or y0 >= y1:
            return
        box = (x0, y0, x1, y1)
        soft = max(1.5, reach * 0.25)
        cover = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        for x, y, r in puffs:
            np.maximum(cover, np.clip((r - self._dist(x, y, box)) / soft + 0.5, 0, 1), out=cover)
        cover *= np.clip(base - self.ys[y0:y1] + 0.5, 0.0, 1.0)
        self.blend(cover * np.float32(opacity), colour, box)

    def glow(self, cx: float, cy: float, r: float, colour: RGB, strength: float) -> None:
        box = self._box(cx, cy, r * 2.6)
        x0, y0, x1, y1 = box
        if x0 >= x1 or y0 >= y1:
            return
        inv = np.float32(1.0 / r)
        gx = np.exp(-(((self.xs[:, x0:x1] - cx) * inv) ** 2))
        gy = np.exp(-(((self.ys[y0:y1] - cy) * inv) ** 2))
        # exp(-(dx^2 + dy^2)) is separable: an outer product is much cheaper than exp per pixel
        self.blend(gy * (gx * np.float32(strength)), colour, box)

    def ridge(
        self,
        base: float,
        amplitude: float,
        waves: Sequence[tuple[float, float, float]],
        top: RGB,
        bottom: RGB,
    ) -> None:
        """Fill below the wavy line y = base + sum(amp * sin(freq * x + phase))."""
        x = self.xs[0] * np.float32(2 * math.pi / self.w)
        line = np.full(self.w, base, dtype=np.float32)
        for amp, freq, phase in waves:
            line += np.float32(amplitude * amp) * np.sin(np.float32(freq) * x + np.float32(phase))
        y0 = max(0, int(line.min()) - 1)
        if y0 >= self.h:
            return
        ys = self.ys[y0:]
        inside = ys >= line[None, :] + 0.5  # fully covered pixels
        # the one partially covered pixel per column, for anti-aliasing
        edge_y = np.ceil(line - 0.5).astype(np.intp)
        cols = np.nonzero((edge_y >= y0) & (edge_y < self.h))[0]
        rows = edge_y[cols]
        edge_alpha = rows - line[cols] + 0.5
        depth = np.clip((ys - base) / max(1.0, self.h - base), 0.0, 1.0)
        for c in range(3):
            fill = np.float32(top[c]) + np.float32(bottom[c] - top[c]) * depth
            np.copyto(self.px[c, y0:], np.broadcast_to(fill, inside.shape), where=inside)
            plane = self.px[c]
            current = plane[rows, cols]
            plane[rows, cols] = current + (fill[rows - y0, 0] - current) * edge_alpha

    def vignette(self, strength: float) -> None:
        nx = (self.xs - self.w / 2) * np.float32(2 / self.w)
        ny = (self.ys - self.h / 2) * np.float32(2 / self.h)
        factor = np.float32(1.0) - np.float32(strength * 0.5) * (nx * nx + ny * ny)
        self.px *= factor[None]

    def to_uint8(self) -> npt.NDArray[np.uint8]:
        """Interleaved (height, width, 3) uint8."""
        out = np.empty((self.h, self.w, 3), dtype=np.uint8)
        scaled = np.empty((self.h, self.w), dtype=np.float32)
        for c in range(3):
            np.multiply(self.px[c], np.float32(255.0), out=scaled)
            scaled += np.float32(0.5)
            np.clip(scaled, 0, 255, out=scaled)
            out[..., c] = scaled
        return out


def _celestial(c: Canvas, p: Palette, rnd: SeededRandom, horizon: float) -> None:
    cx = c.w * rnd.uniform(0.18, 0.82)
    cy = horizon * rnd.uniform(0.3, 0.7)
    r = c.short * rnd.uniform(0.06, 0.11)
    c.glow(cx, cy, r * 2.2, p.sun, 0.35 if not p.night else 0.2)
    if p.night and rnd.random() < 0.6:
        c.crescent(cx, cy, r, p.sun, r * rnd.uniform(0.35, 0.6), -r * rnd.uniform(0.1, 0.3))
    else:
        c.disc(cx, cy, r, p.sun)


def _stars(c: Canvas, rnd: SeededRandom, horizon: float) -> None:
    n = int(60 + 80 * rnd.random()) * max(1, c.w * c.h // (1024 * 1024))
    for _ in range(n):
        x = rnd.uniform(0, c.w - 1)
        y = rnd.uniform(0, horizon * 0.9)
        r = rnd.uniform(0.6, 1.8) * c.short / 1024
        c.disc(x, y, r, (1.0, 1.0, 0.95), opacity=rnd.uniform(0.4, 1.0), soft=1.0)


def _landscape(c: Canvas, p: Palette, rnd: SeededRandom) -> float:
    c.vertical_gradient(p.sky_top, p.sky_bottom, curve=rnd.uniform(0.8, 1.4))
    horizon = c.h * rnd.uniform(0.5, 0.68)
    if p.night:
        _stars(c, rnd, horizon)
    _celestial(c, p, rnd, horizon)
    for _ in range(0 if p.night else rnd.randint(0, 3)):  # soft clouds
        cx, cy = c.w * rnd.random(), horizon * rnd.uniform(0.15, 0.6)
        unit = c.short * rnd.uniform(0.035, 0.06)
        puffs = [
            (cx + dx * unit, cy - dy * unit, r * unit)
            for dx, dy, r in (
                (-1.6, 0.0, 0.8),
                (-0.6, 0.45, 1.1),
                (0.6, 0.3, 1.0),
                (1.6, 0.0, 0.75),
            )
        ]
        c.cloud(puffs, _mix(p.sky_bottom, (1.0, 1.0, 1.0), 0.75), cy + 0.4 * unit, 0.55)
    for i, colour in enumerate(p.layers):
        base = horizon + (c.h - horizon) * (0.05 + 0.3 * i)
        amp = c.h * rnd.uniform(0.04, 0.1) * (1.0 - 0.25 * i)
        waves = [
            (1.0, rnd.uniform(0.6, 1.6), rnd.uniform(0, 2 * math.pi)),
            (0.5, rnd.uniform(1.8, 3.5), rnd.uniform(0, 2 * math.pi)),
            (0.2, rnd.uniform(4.0, 8.0), rnd.uniform(0, 2 * math.pi)),
        ]
        c.ridge(base, amp, waves, colour, _mix(colour, (0.0, 0.0, 0.0), 0.25))
    return horizon


def _waves(c: Canvas, p: Palette, rnd: SeededRandom) -> float:
    c.vertical_gradient(p.sky_top, p.sky_bottom, curve=rnd.uniform(0.9, 1.3))
    horizon = c.h * rnd.uniform(0.45, 0.6)
    if p.night:
        _stars(c, rnd, horizon)
    _celestial(c, p, rnd, horizon * 1.25)
    bands = rnd.randint(4, 6)
    colours = [p.layers[0], p.accents[0], p.layers[1], p.accents[2], p.layers[2], p.layers[2]]
    for i in range(bands):
        base = horizon + (c.h - horizon) * i / bands
        colour = colours[i % len(colours)]
        waves = [
            (1.0, rnd.uniform(2.0, 4.0), rnd.uniform(0, 2 * math.pi)),
            (0.35, rnd.uniform(5.0, 9.0), rnd.uniform(0, 2 * math.pi)),
        ]
        amp = c.h * rnd.uniform(0.012, 0.03) * (1 + i * 0.3)
        c.ridge(base, amp, waves, colour, _mix(colour, p.layers[2], 0.5))
    return horizon


def _abstract(c: Canvas, p: Palette, rnd: SeededRandom) -> float:
    c.linear_gradient(p.sky_top, p.sky_bottom, rnd.uniform(0, 2 * math.pi))
    colours = [*p.accents, p.sun, p.layers[0]]
    # big, very soft colour fields first, then crisper circles and a ring
    for _ in range(rnd.randint(2, 3)):
        cx, cy = c.w * rnd.random(), c.h * rnd.random()
        c.glow(cx, cy, c.short * rnd.uniform(0.2, 0.35), rnd.choice(colours), 0.55)
    for _ in range(rnd.randint(4, 7)):
        cx, cy = c.w * rnd.uniform(0.05, 0.95), c.h * rnd.uniform(0.05, 0.95)
        r = c.short * rnd.uniform(0.04, 0.2)
        c.disc(cx, cy, r, rnd.choice(colours), opacity=rnd.uniform(0.35, 0.85), soft=r * 0.08 + 1)
    if rnd.random() < 0.7:
        cx, cy = c.w * rnd.uniform(0.25, 0.75), c.h * rnd.uniform(0.25, 0.75)
        r = c.short * rnd.uniform(0.15, 0.3)
        colour = rnd.choice(colours)
        c.disc(cx, cy, r, colour, opacity=0.9)
        c.disc(cx, cy, r * 0.86, _mix(colour, p.sky_bottom, 0.7), opacity=0.9)
    return c.h * 0.62


def _pine(c: Canvas, x: float, base: float, height: float, colour: RGB, snow: bool) -> None:
    """A three-tier pine: stacked triangles, snow on each tier's top when `snow`."""
    half = height * 0.32
    x0, x1 = max(0, int(x - half) - 1), min(c.w, math.ceil(x + half) + 2)
    top = base - height
    y0, y1 = max(0, int(top) - 1), min(c.h, math.ceil(base) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    dx = np.abs(c.xs[:, x0:x1] - np.float32(x))
    ys = c.ys[y0:y1]
    cover = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
    caps = np.zeros_like(cover)
    for tier in range(3):
        t_top = top + height * 0.22 * tier
        t_h = height * (0.42 + 0.04 * tier)
        depth = np.clip((ys - t_top) / t_h, 0.0, 1.0)
        inside = np.clip((half * (0.7 + 0.15 * tier) * depth - dx) + 0.5, 0.0, 1.0)
        inside *= (ys >= t_top) & (ys <= t_top + t_h)
        np.maximum(cover, inside, out=cover)
        if snow:
            np.maximum(caps, inside * (depth < 0.35), out=caps)
    trunk = (dx < height * 0.05) & (ys > base - height * 0.12) & (ys <= base)
    c.blend(np.maximum(cover, trunk.astype(np.float32)), colour, (x0, y0, x1, y1))
    if snow:
        c.blend(caps * np.float32(0.9), (0.97, 0.98, 1.0), (x0, y0, x1, y1))


def _forest(c: Canvas, p: Palette, rnd: SeededRandom, horizon: float, snow: bool) -> None:
    trees = []
    for _ in range(rnd.randint(9, 14)):
        depth = rnd.random()  # 0: far, 1: near
        base = horizon + (c.h - horizon) * (0.05 + 0.55 * depth)
        trees.append((base, c.w * rnd.random(), c.h * (0.12 + 0.2 * depth)))
    far, near = _mix(p.layers[0], p.sky_bottom, 0.3), p.layers[2]
    green = (0.16, 0.36, 0.26) if not p.night else (0.06, 0.14, 0.12)
    for base, x, height in sorted(trees):
        t = (base - horizon) / max(1.0, c.h - horizon)
        colour = _mix(_mix(far, near, t), green, 0.55)
        _pine(c, x, base, height, colour, snow)


def _skyline(c: Canvas, p: Palette, rnd: SeededRandom, horizon: float) -> None:
    """Buildings standing on the horizon, windows lit at night."""
    x = -c.w * 0.02
    body = _mix(p.layers[1], (0.2, 0.22, 0.28), 0.5)
    window = (1.0, 0.86, 0.45) if p.night else _mix(p.sky_bottom, (1.0, 1.0, 1.0), 0.5)
    unit = c.short / 1024
    while x < c.w:
        width = c.w * rnd.uniform(0.05, 0.11)
        height = c.h * rnd.uniform(0.12, 0.38)
        shade = _mix(body, p.sky_top, rnd.uniform(0.0, 0.3))
        x0, x1 = max(0, int(x)), min(c.w, int(x + width))
        y0, y1 = max(0, int(horizon - height)), min(c.h, int(horizon + c.h * 0.02))
        if x0 < x1 and y0 < y1:
            c.blend(np.ones((y1 - y0, x1 - x0), dtype=np.float32), shade, (x0, y0, x1, y1))
            step_x, step_y = max(6, int(18 * unit)), max(8, int(26 * unit))
            for wy in range(y0 + step_y // 2, y1 - step_y, step_y):
                for wx in range(x0 + step_x // 2, x1 - step_x // 2, step_x):
                    if rnd.random() < (0.55 if p.night else 0.8):
                        box = (wx, wy, min(x1, wx + step_x // 2), min(c.h, wy + step_y // 2))
                        shape = (box[3] - box[1], box[2] - box[0])
                        c.blend(np.full(shape, 0.85, dtype=np.float32), window, box)
        x += width + c.w * rnd.uniform(0.0, 0.015)


def _snowfall(c: Canvas, rnd: SeededRandom) -> None:
    for _ in range(int(90 + 60 * rnd.random())):
        r = rnd.uniform(1.2, 3.5) * c.short / 1024
        c.disc(c.w * rnd.random(), c.h * rnd.random(), r, (1.0, 1.0, 1.0), rnd.uniform(0.5, 0.9))


_MOONLIT_SNOW: tuple[RGB, RGB, RGB] = ((0.55, 0.6, 0.75), (0.45, 0.5, 0.65), (0.36, 0.4, 0.55))
_DAYLIT_SNOW: tuple[RGB, RGB, RGB] = ((0.9, 0.93, 0.98), (0.84, 0.88, 0.95), (0.76, 0.81, 0.9))


def paint_scene(c: Canvas, cues: PromptCues, palette: Palette, rnd: SeededRandom) -> float:
    """Paint the prompt's scene on the canvas; returns the y of the ground in front."""
    snow = "winter" in cues.themes
    if snow:  # snow lies white (moonlit at night) whatever lights the sky
        palette = dataclasses.replace(
            palette, layers=_MOONLIT_SNOW if palette.night else _DAYLIT_SNOW
        )
    if "city" in cues.themes and not cues.landscape:
        layout = "city"
    elif cues.landscape:
        layout = "landscape"
    elif "ocean" in cues.themes:
        layout = "waves"
    elif cues.theme in ("sunset", "forest", "desert", "winter", "autumn"):
        layout = "landscape"
    elif cues.theme in ("night", "neon", "spring"):
        layout = rnd.choice(("landscape", "abstract"))
    else:
        layout = rnd.choice(("landscape", "waves", "abstract", "abstract"))
    if layout == "city":
        c.vertical_gradient(palette.sky_top, palette.sky_bottom)
        horizon = c.h * 0.7
        if palette.night:
            _stars(c, rnd, horizon * 0.6)
        _celestial(c, palette, rnd, horizon * 0.6)
        _skyline(c, palette, rnd, horizon)
        c.ridge(horizon + c.h * 0.01, 0.0, [], palette.layers[1], palette.layers[2])
    else:
        painters = {"landscape": _landscape, "waves": _waves, "abstract": _abstract}
        horizon = painters[layout](c, palette, rnd)
    if "forest" in cues.themes and layout == "landscape":
        _forest(c, palette, rnd, horizon, snow)
    if snow:
        _snowfall(c, rnd)
    return min(c.h * 0.94, horizon + (c.h - horizon) * 0.75)


def render(prompt: str, width: int, height: int, seed: bytes) -> npt.NDArray[np.uint8]:
    """Render an RGB uint8 array (height, width, 3) for the prompt, fully determined by seed."""
    rnd = SeededRandom(seed)
    cues = read_cues(prompt)
    palette = choose_palette(cues, rnd)
    canvas = Canvas(width, height)
    paint_scene(canvas, cues, palette, rnd)
    canvas.vignette(0.18)
    return canvas.to_uint8()
