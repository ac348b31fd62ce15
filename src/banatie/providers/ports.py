"""The pipeline's provider ports (DESIGN.md §1). Adapters live in `local/` and `gemini/`.

Every adapter is chosen once, in `banatie.providers.factory`, from settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from banatie.providers.capabilities import ImageCapabilities

# Gemini 2.5 Flash Image output sizes (DESIGN.md §1); the local synthesizer's 1K row.
ASPECT_RATIO_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}

TEMPLATES: tuple[str, ...] = (
    "general",
    "photorealistic",
    "illustration",
    "minimalist",
    "sticker",
    "product",
    "comic",
)


@dataclass(frozen=True)
class ReferenceImage:
    image_id: str
    data: bytes
    mime_type: str
    alias: str | None = None
    # "reference": named by the request or its prompt; "style": a namespace's style image.
    role: str = "reference"


@dataclass(frozen=True)
class SynthesisRequest:
    prompt: str
    aspect_ratio: str
    reference_images: Sequence[ReferenceImage] = ()
    # The template the prompt was written for (general, sticker, comic, ...).
    template: str | None = None
    # A namespace's style prompt and negative prompt. Image models take no system instruction
    # ("Developer instruction is not enabled"), so adapters fold these into the prompt text.
    style: str | None = None
    negative_prompt: str | None = None
    # Output size where the model offers one (512, 1K, 2K, 4K); None: the model's default.
    image_size: str | None = None


@dataclass(frozen=True)
class SynthesizedImage:
    data: bytes
    mime_type: str
    model: str
    # Provider token counts, e.g. {"promptTokens": 12, "outputTokens": 1290}; empty for local.
    usage: dict[str, int] = field(default_factory=dict)


class ImageSynthesizer(Protocol):
    name: str

    async def capabilities(self) -> ImageCapabilities:
        """The active model's aspect ratios and sizes (`providers.capabilities`). Never raises:
        a model that cannot be resolved yet answers with its best-known row."""
        ...

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage: ...


@dataclass(frozen=True)
class EnhancementRequest:
    prompt: str
    template: str = "general"
    aspect_ratio: str = "1:1"
    # Namespace style prompt and enhancer system prompt (namespaces issue).
    style: str | None = None
    system_prompt: str | None = None
    reference_aliases: Sequence[str] = ()
    # A flow's memory (banatie.flows.memory): its earlier original prompts, oldest first, and
    # what its latest earlier image shows.
    flow_prompts: Sequence[str] = ()
    last_description: str | None = None


@dataclass(frozen=True)
class EnhancedPrompt:
    prompt: str
    language: str
    rationale: str
    enhancer: str


class PromptEnhancer(Protocol):
    name: str

    async def enhance(self, request: EnhancementRequest) -> EnhancedPrompt: ...


@dataclass(frozen=True)
class AnalysisRequest:
    data: bytes
    mime_type: str
    # The prompt that made the image (alt text falls back on it) or the upload's file name.
    prompt: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class AssetAnalysis:
    width: int
    height: int
    mime_type: str
    focal_x: float
    focal_y: float
    dominant_colors: list[str]
    placeholder_hash: str
    alt_text: str
    has_alpha: bool = False
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    # Which analyzer produced the focal point and alt text ("local", "gemini").
    analyzer: str = "local"


class AssetAnalyzer(Protocol):
    name: str

    async def analyze(self, request: AnalysisRequest) -> AssetAnalysis: ...
