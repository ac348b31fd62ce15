"""What each Gemini model can do, by family: one row per family (`IMAGE_FAMILIES`,
`TEXT_FAMILIES`) with the aspect ratios and their pixel sizes per imageSize, thinking control,
system instructions and structured output; and how model ids are read (`parse_model_id`).

A model id the table has never seen gets the row of the newest known family of its tier (Flash or
Pro) that is not newer than it, e.g. `gemini-4-flash-image` is treated like
`gemini-3.1-flash-image`. Which model is used is `banatie.providers.gemini.models`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from banatie.providers.capabilities import Dimensions, ImageCapabilities
from banatie.providers.ports import ASPECT_RATIO_SIZES

if TYPE_CHECKING:
    from google.genai import types

Tier = Literal["flash", "pro"]

# ----------------------------------------------------------------------------- capabilities


@dataclass(frozen=True)
class TextCapabilities:
    """What a text model (the enhancer's and the analyzer's) accepts."""

    model: str
    family: str
    # "budget" (Gemini 2.5: thinking_budget), "level" (Gemini 3: thinking_level), "none".
    thinking: Literal["budget", "level", "none"]
    # The cheapest setting the family accepts (budget 0, level MINIMAL / LOW); None: the family
    # cannot turn thinking down (2.5 Pro), so nothing is sent.
    fastest_thinking: int | str | None
    system_instruction: bool = True
    structured_output: bool = True

    def thinking_config(self) -> types.ThinkingConfig | None:
        """The agents' small JSON tasks need no thinking, and thinking adds seconds."""
        from google.genai import types  # here: this module's tables load without google-genai

        if self.fastest_thinking is None or self.thinking == "none":
            return None
        if self.thinking == "budget":
            return types.ThinkingConfig(thinking_budget=int(self.fastest_thinking))
        return types.ThinkingConfig(thinking_level=types.ThinkingLevel(str(self.fastest_thinking)))

    def for_model(self, model: str) -> TextCapabilities:
        return replace(self, model=model)

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "family": self.family,
            "thinking": self.thinking,
            "fastestThinking": self.fastest_thinking,
            "systemInstruction": self.system_instruction,
            "structuredOutput": self.structured_output,
        }


C = TypeVar("C", ImageCapabilities, TextCapabilities)

# Gemini 3.x image models at imageSize 1K (Google's image-generation guide; its 512, 2K and 4K
# columns are these halved, doubled and quadrupled).
GEMINI_3_1K: dict[str, Dimensions] = {
    "1:1": (1024, 1024),
    "1:4": (512, 2048),
    "1:8": (384, 3072),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:1": (2048, 512),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "8:1": (3072, 384),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
}
_SCALE = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
TEN_RATIOS: tuple[str, ...] = tuple(ASPECT_RATIO_SIZES)


def gemini_3_sizes(ratios: Iterable[str], sizes: Sequence[str]) -> dict[str, dict[str, Dimensions]]:
    """The Gemini 3.x size table for these aspect ratios and imageSizes."""
    chosen = {ratio: GEMINI_3_1K[ratio] for ratio in ratios}
    return {
        size: {
            r: (round(w * _SCALE[size]), round(h * _SCALE[size])) for r, (w, h) in chosen.items()
        }
        for size in sizes
    }


@dataclass(frozen=True)
class Family(Generic[C]):
    name: str
    tier: Tier
    version: tuple[int, ...]
    capabilities: C


def _image(
    name: str, tier: Tier, version: tuple[int, ...], sizes: dict[str, dict[str, Dimensions]],
    **options: Any,
) -> Family[ImageCapabilities]:  # fmt: skip
    return Family(name, tier, version, ImageCapabilities(name, name, sizes, **options))


def _text(
    name: str, tier: Tier, version: tuple[int, ...], thinking: Literal["budget", "level"],
    fastest: int | str | None,
) -> Family[TextCapabilities]:  # fmt: skip
    return Family(name, tier, version, TextCapabilities(name, name, thinking, fastest))


IMAGE_FAMILIES: tuple[Family[ImageCapabilities], ...] = (
    # One size (1K) and no imageSize parameter.
    _image("gemini-2.5-flash-image", "flash", (2, 5), {"1K": dict(ASPECT_RATIO_SIZES)},
           sends_image_size=False),
    _image("gemini-3-pro-image", "pro", (3,), gemini_3_sizes(TEN_RATIOS, ("1K", "2K", "4K")),
           thinking="always (cannot be turned off)"),
    _image("gemini-3.1-flash-image", "flash", (3, 1),
           gemini_3_sizes(GEMINI_3_1K, ("512", "1K", "2K", "4K")),
           thinking="level: minimal (default) or high"),
)  # fmt: skip

TEXT_FAMILIES: tuple[Family[TextCapabilities], ...] = (
    _text("gemini-2.5-flash", "flash", (2, 5), "budget", 0),
    # 2.5 Pro thinks at least 128 tokens: thinking cannot be turned off.
    _text("gemini-2.5-pro", "pro", (2, 5), "budget", None),
    _text("gemini-3-flash", "flash", (3,), "level", "MINIMAL"),
    _text("gemini-3-pro", "pro", (3,), "level", "LOW"),
)

# Known ids, newest first. A model that goes GA drops "-preview", so the GA id comes first.
IMAGE_PREFERENCE: tuple[str, ...] = (
    "gemini-3.1-flash-image",
    "gemini-3.1-flash-image-preview",
    "gemini-2.5-flash-image",
)
TEXT_PREFERENCE: tuple[str, ...] = ("gemini-3-flash", "gemini-3-flash-preview", "gemini-2.5-flash")
# Flash models that answer in something other than text (or only embed it).
_NOT_TEXT_WORDS = frozenset(
    {"image", "tts", "audio", "live", "embedding", "computer", "robotics", "dialog", "thinking"}
)

# ----------------------------------------------------------------------------- model ids

_MODEL_ID = re.compile(
    r"^gemini-(?P<version>\d+(?:\.\d+)*)-(?P<tier>flash-lite|flash|pro)(?P<rest>.*)$"
)
_UNSTABLE_WORDS = frozenset({"preview", "exp", "experimental"})


@dataclass(frozen=True)
class ModelId:
    """`gemini-3.1-flash-image-preview` -> version (3, 1), tier flash, words {image, preview}."""

    id: str
    version: tuple[int, ...]
    tier: Tier
    lite: bool
    words: frozenset[str]

    @property
    def stable(self) -> bool:
        return not self.words & _UNSTABLE_WORDS

    @property
    def makes_images(self) -> bool:
        return "image" in self.words

    @property
    def makes_text(self) -> bool:
        return not self.words & _NOT_TEXT_WORDS

    def newness(self) -> tuple[tuple[int, ...], bool, bool, str]:
        """Sort key: higher version, then full over Lite, then GA over preview."""
        return (self.version, not self.lite, self.stable, self.id)


def bare_id(name: str) -> str:
    return name.strip().removeprefix("models/")


def parse_model_id(name: str) -> ModelId | None:
    model = bare_id(name)
    match = _MODEL_ID.match(model)
    if match is None:
        return None
    tier = match.group("tier")
    return ModelId(
        id=model,
        version=tuple(int(part) for part in match.group("version").split(".")),
        tier="pro" if tier == "pro" else "flash",
        lite=tier == "flash-lite",
        words=frozenset(w for w in re.split(r"[-_]", match.group("rest").lower()) if w),
    )


def _family(model: str, families: Sequence[Family[C]]) -> Family[C]:
    """The family row of `model`: the newest known family of its tier not newer than it."""
    parsed = parse_model_id(model)
    if parsed is None:
        return families[0]  # an id of no known shape: the oldest (most conservative) row
    same_tier = [f for f in families if f.tier == parsed.tier] or list(families)
    older = [f for f in same_tier if f.version <= parsed.version]
    return max(older, key=lambda f: f.version) if older else min(same_tier, key=lambda f: f.version)


def image_capabilities(model: str) -> ImageCapabilities:
    return _family(model, IMAGE_FAMILIES).capabilities.for_model(bare_id(model))


def text_capabilities(model: str) -> TextCapabilities:
    if parse_model_id(model) is None:  # not a Gemini id we can read: send no thinking options
        return TextCapabilities(bare_id(model), "unknown", "none", None)
    return _family(model, TEXT_FAMILIES).capabilities.for_model(bare_id(model))
