"""A transformation, normalised: :class:`TransformSpec` and its canonical query string."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal, TypeAlias

from banatie.delivery.effects import NO_EFFECTS, Effects
from banatie.delivery.params.formats import DEFAULT_QUALITY, FormatParam, OutputFormat
from banatie.delivery.riapi import ANCHORS, Anchor, TransformError, fmt_number

Mode: TypeAlias = Literal["max", "pad", "crop", "stretch"]
Scale: TypeAlias = Literal["down", "both", "canvas"]
RGBA: TypeAlias = tuple[int, int, int, int]


@dataclass(frozen=True)
class TransformSpec:
    """One image transformation, normalised so that equal transforms compare (and hash) equal.

    ``width``/``height`` are output pixels (``dpr`` already applied); ``gravity`` is the crop
    centre in percent; ``bgcolor`` is RGBA. Construction normalises away anything that has no
    effect (see :mod:`banatie.delivery.params`), so build specs with :func:`parse_transform`
    or directly.
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
