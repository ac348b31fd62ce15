"""What the active image model can produce, and the one check every channel makes against it.

Each `ImageSynthesizer` answers `capabilities()` with the row of its active model (the Gemini
family table in `providers/gemini/models.py`, the local synthesizer's own row). Generations,
`POST /enhance` and live URLs validate `aspectRatio` and `imageSize` with `check_output` against
that one row, so the three channels cannot disagree on what is supported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from banatie.errors import ValidationError

# Gemini's imageSize values, smallest first ("512" is the API's spelling of 0.5K).
IMAGE_SIZE_ORDER: tuple[str, ...] = ("512", "1K", "2K", "4K")
_SIZE_SPELLINGS = re.compile(r"^(?:(?P<k>0\.5|[124])\s*k|(?P<px>512)\s*(?:px)?)$", re.IGNORECASE)

Dimensions = tuple[int, int]


@dataclass(frozen=True)
class ImageCapabilities:
    """One model's output options: for each imageSize, the pixel size of every aspect ratio."""

    # The model these options belong to (a Gemini model id, or the local synthesizer's name).
    model: str
    # The table row it comes from, e.g. "gemini-3.1-flash-image" or "local".
    family: str
    sizes: Mapping[str, Mapping[str, Dimensions]]
    default_size: str = "1K"
    # False: the model has a single size and takes no imageSize (Gemini 2.5 Flash Image).
    sends_image_size: bool = True
    # How the model thinks, for people: "none", "always", "level: minimal, high", …
    thinking: str = "none"
    system_instruction: bool = False
    structured_output: bool = False

    @property
    def aspect_ratios(self) -> tuple[str, ...]:
        return tuple(self.sizes[self.default_size])

    @property
    def image_sizes(self) -> tuple[str, ...]:
        return tuple(self.sizes)

    def dimensions(self, aspect_ratio: str, image_size: str | None = None) -> Dimensions | None:
        return self.sizes.get(image_size or self.default_size, {}).get(aspect_ratio)

    def for_model(self, model: str) -> ImageCapabilities:
        return dataclasses.replace(self, model=model)

    def describe(self) -> dict[str, Any]:
        """The row as `/api/info` shows it (camelCase JSON)."""
        return {
            "model": self.model,
            "family": self.family,
            "aspectRatios": list(self.aspect_ratios),
            "imageSizes": list(self.image_sizes),
            "defaultImageSize": self.default_size,
            "sizes": {
                size: {ratio: {"width": w, "height": h} for ratio, (w, h) in table.items()}
                for size, table in self.sizes.items()
            },
            "thinking": self.thinking,
            "systemInstruction": self.system_instruction,
            "structuredOutput": self.structured_output,
        }


def normalize_image_size(raw: str) -> str | None:
    """`1k`, `2K`, `0.5K`, `512px` -> Gemini's spelling (`1K`, `2K`, `512`); None if unknown."""
    match = _SIZE_SPELLINGS.match(raw.strip())
    if match is None:
        return None
    if match.group("px") or match.group("k") == "0.5":
        return "512"
    return f"{match.group('k')}K"


def normalize_aspect_ratio(raw: str) -> str:
    """`16x9`, `16/9`, ` 16:9 ` -> `16:9` (whether the model offers it is `check_output`'s)."""
    return raw.strip().lower().replace("x", ":").replace("/", ":")


def check_output(
    capabilities: ImageCapabilities, aspect_ratio: str, image_size: str | None = None
) -> tuple[str, str | None]:
    """Validate an aspect ratio and an optional imageSize against the model's row.

    Returns them in canonical spelling; raises `ValidationError` (400) naming what the model
    supports.
    """
    raw_ratio, aspect_ratio = aspect_ratio, normalize_aspect_ratio(aspect_ratio)
    if aspect_ratio not in capabilities.aspect_ratios:
        raise ValidationError(
            f"aspectRatio {raw_ratio[:20]!r} is not supported by {capabilities.model}; "
            "use one of " + ", ".join(capabilities.aspect_ratios)
        )
    if image_size is None:
        return aspect_ratio, None
    size = normalize_image_size(image_size)
    if size is None or size not in capabilities.sizes:
        raise ValidationError(
            f"imageSize {image_size[:20]!r} is not supported by {capabilities.model}; "
            "use one of " + ", ".join(capabilities.image_sizes)
        )
    if aspect_ratio not in capabilities.sizes[size]:
        raise ValidationError(
            f"aspectRatio {aspect_ratio!r} is not offered at imageSize {size} by "
            f"{capabilities.model}; use one of " + ", ".join(capabilities.sizes[size])
        )
    return aspect_ratio, size


def scaled_sizes(
    base: Mapping[str, Dimensions], scales: Mapping[str, float]
) -> dict[str, dict[str, Dimensions]]:
    """A size table from one base table: every imageSize is the base scaled (e.g. 2K = 1K x 2)."""
    return {
        size: {ratio: (round(w * scale), round(h * scale)) for ratio, (w, h) in base.items()}
        for size, scale in scales.items()
    }
