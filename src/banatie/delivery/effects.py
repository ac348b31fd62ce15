"""Transforms beyond size and format: rotation, flips, trimming, filters, colour and watermark.

Parameter names follow Imageflow's RIAPI where it has one, and so does the order they run in,
whatever the order in the URL::

    trim.threshold -> srotate -> sflip -> resize/crop -> f.sharpen, blur, s.* -> pad
        -> rotate -> flip -> watermark

* ``srotate`` turns the *source* before anything else, so ``w``/``h``/``mode=crop`` apply to the
  turned image; ``rotate`` turns the *result*, so ``w=400&h=300&rotate=90`` is 300x400.
  Both take clockwise multiples of 90 (``-90`` is ``270``; ``360`` is no rotation).
* ``flip``/``sflip``: ``h`` (or ``x``, mirror left-right), ``v`` (or ``y``, upside down),
  ``both`` (or ``xy``), ``none``.
* ``trim.threshold=0..255`` cuts away borders whose colour differs from the top-left pixel by
  less than the threshold (before resizing, so the trimmed image is what gets fitted).
* ``f.sharpen=0..99`` (percent), ``blur=0..50`` (Gaussian sigma in output pixels).
* ``s.saturation``, ``s.brightness``, ``s.contrast``: ``-1..1`` in sRGB, 0 is no change;
  ``s.saturation=-1`` is greyscale, ``s.brightness=1`` is white, ``s.contrast=-1`` is flat grey.
* ``watermark=@alias`` (or an image id) of the same project, placed at ``watermark.position``
  (an anchor name, default ``bottomright``) with a margin of 2 % of the shorter side, at
  ``watermark.scale`` (its width as a fraction of the output's, 0.01..1, default 0.25) and
  ``watermark.opacity`` (0..1, default 1).

A value with no effect (``rotate=0``, ``blur=0``, ``s.contrast=0``, ``flip=none``) is dropped,
so it makes no new variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from banatie.delivery.riapi import (
    ANCHORS,
    Anchor,
    TransformError,
    fmt_number,
    parse_choice,
    parse_int,
    parse_number,
    show,
)

__all__ = [
    "EFFECT_PARAMS",
    "NO_EFFECTS",
    "Effects",
    "Flip",
    "Watermark",
    "parse_effects",
]

Flip: TypeAlias = Literal["x", "y", "xy"]

#: Canonical parameter names handled here (every one is its own canonical name).
EFFECT_PARAMS: Final = (
    "trim.threshold",
    "srotate",
    "sflip",
    "f.sharpen",
    "blur",
    "s.saturation",
    "s.brightness",
    "s.contrast",
    "rotate",
    "flip",
    "watermark",
    "watermark.position",
    "watermark.scale",
    "watermark.opacity",
)
MAX_BLUR: Final = 50.0
_FLIPS: Final[dict[str, Flip | Literal[""]]] = {
    "none": "",
    "h": "x",
    "x": "x",
    "v": "y",
    "y": "y",
    "both": "xy",
    "hv": "xy",
    "xy": "xy",
}
_ROTATION_RE: Final = re.compile(r"[+-]?\d{1,4}")
_UUID_RE: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ALIAS_RE: Final = re.compile(r"@[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Watermark:
    """An image of the same project drawn over the result: ``ref`` is ``@alias`` or an id."""

    ref: str
    position: Anchor = "bottomright"
    scale: float = 0.25
    opacity: float = 1.0

    def canonical(self) -> list[str]:
        parts = [f"watermark={self.ref}"]
        if self.position != "bottomright":
            parts.append(f"watermark.position={self.position}")
        if self.scale != 0.25:
            parts.append(f"watermark.scale={fmt_number(self.scale)}")
        if self.opacity != 1.0:
            parts.append(f"watermark.opacity={fmt_number(self.opacity)}")
        return parts


@dataclass(frozen=True)
class Effects:
    """The non-geometric part of a transform; the default instance changes nothing."""

    trim: int | None = None
    srotate: int = 0
    sflip: Flip | None = None
    sharpen: int = 0
    blur: float = 0.0
    saturation: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    rotate: int = 0
    flip: Flip | None = None
    watermark: Watermark | None = None

    @property
    def any(self) -> bool:
        return self != NO_EFFECTS

    @property
    def before_resize(self) -> bool:
        """True when the source must be decoded and changed before it is fitted."""
        return self.trim is not None or self.srotate != 0 or self.sflip is not None

    @property
    def filters(self) -> bool:
        return bool(
            self.sharpen or self.blur or self.saturation or self.brightness or self.contrast
        )

    def canonical(self) -> list[str]:
        parts: list[str] = []
        if self.trim is not None:
            parts.append(f"trim.threshold={self.trim}")
        if self.srotate:
            parts.append(f"srotate={self.srotate}")
        if self.sflip is not None:
            parts.append(f"sflip={self.sflip}")
        if self.sharpen:
            parts.append(f"f.sharpen={self.sharpen}")
        if self.blur:
            parts.append(f"blur={fmt_number(self.blur)}")
        for name, value in (
            ("s.saturation", self.saturation),
            ("s.brightness", self.brightness),
            ("s.contrast", self.contrast),
        ):
            if value:
                parts.append(f"{name}={fmt_number(value)}")
        if self.rotate:
            parts.append(f"rotate={self.rotate}")
        if self.flip is not None:
            parts.append(f"flip={self.flip}")
        if self.watermark is not None:
            parts += self.watermark.canonical()
        return parts


NO_EFFECTS: Final = Effects()


def _rotation(param: str, raw: str) -> int:
    text = raw.strip().lower().removesuffix("deg")
    if _ROTATION_RE.fullmatch(text) and int(text) % 90 == 0:
        return int(text) % 360
    raise TransformError(
        param, f"{param} must be a multiple of 90 degrees: 0, 90, 180 or 270 (got {show(raw)})"
    )


def _image_ref(param: str, raw: str) -> str:
    text = raw.strip()
    if _ALIAS_RE.fullmatch(text) or _UUID_RE.fullmatch(text.lower()):
        return text if text.startswith("@") else text.lower()
    raise TransformError(
        param,
        f"{param} must name an image of this project: @alias or an image id (got {show(raw)})",
    )


def parse_effects(found: dict[str, tuple[str, str]]) -> Effects:
    """``found`` maps canonical names to (name as given, value), as ``parse_transform`` builds
    it; names not in :data:`EFFECT_PARAMS` are ignored."""

    def value(name: str) -> tuple[str, str] | None:
        return found.get(name)

    kwargs: dict[str, object] = {}
    if (item := value("trim.threshold")) is not None:
        kwargs["trim"] = parse_int(item[0], item[1], 0, 255)
    for name in ("srotate", "rotate"):
        if (item := value(name)) is not None:
            kwargs[name] = _rotation(*item)
    for name in ("sflip", "flip"):
        if (item := value(name)) is not None:
            flip = parse_choice(*item, _FLIPS, "h, v, both or none (or x, y, xy)")
            kwargs[name] = flip or None
    if (item := value("f.sharpen")) is not None:
        kwargs["sharpen"] = parse_int(item[0], item[1], 0, 99)
    if (item := value("blur")) is not None:
        kwargs["blur"] = parse_number(item[0], item[1], 0.0, MAX_BLUR)
    for name in ("s.saturation", "s.brightness", "s.contrast"):
        if (item := value(name)) is not None:
            kwargs[name.removeprefix("s.")] = parse_number(item[0], item[1], -1.0, 1.0)

    watermark = value("watermark")
    if watermark is None:
        extra = next((found[n][0] for n in EFFECT_PARAMS[-3:] if n in found), None)
        if extra is not None:
            raise TransformError(extra, f"{extra} needs a watermark=@alias to place")
    else:
        mark: dict[str, object] = {"ref": _image_ref(*watermark)}
        if (item := value("watermark.position")) is not None:
            names: dict[str, Anchor] = {n: n for n in ANCHORS}
            mark["position"] = parse_choice(*item, names, ", ".join(ANCHORS))
        if (item := value("watermark.scale")) is not None:
            mark["scale"] = parse_number(item[0], item[1], 0.01, 1.0)
        if (item := value("watermark.opacity")) is not None:
            mark["opacity"] = parse_number(item[0], item[1], 0.0, 1.0)
        if mark.get("opacity") != 0.0:  # an invisible watermark is no watermark
            kwargs["watermark"] = Watermark(**mark)  # type: ignore[arg-type]
    return Effects(**kwargs)  # type: ignore[arg-type]
