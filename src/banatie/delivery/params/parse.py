"""RIAPI query parameters -> :class:`TransformSpec`: names and aliases, presets, ``strict``,
and each value's rules (a bad value raises :class:`TransformError` naming the parameter)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final

from banatie.delivery.effects import EFFECT_PARAMS, parse_effects
from banatie.delivery.params.formats import FORMAT_NAMES, FormatParam
from banatie.delivery.params.spec import RGBA, Mode, Scale, TransformSpec
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

_HEX_RE: Final = re.compile(r"[0-9a-f]+")

_CANONICAL: Final = (
    "w", "h", "mode", "scale", "anchor", "c.gravity", "dpr", "format", "quality", "bgcolor",
    *EFFECT_PARAMS,
)  # fmt: skip
# Parameter name -> canonical name: each canonical name, and the longer spellings it takes.
# Keys are matched case-insensitively.
_ALIASES: Final[dict[str, str]] = {
    **{name: name for name in _CANONICAL},
    "width": "w",
    "height": "h",
    "fmt": "format",
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
        fmt = parse_choice(item[0], item[1], FORMAT_NAMES, "auto, webp, avif, jpeg (jpg) or png")
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
