"""`ImageSynthesizer` on Gemini 2.5 Flash Image (`settings.gemini_image_model`)."""

from __future__ import annotations

from google.genai import types

from banatie.providers.errors import ProviderError
from banatie.providers.gemini.client import (
    GeminiClient,
    candidate_parts,
    first_candidate,
    raise_for_unfinished,
    usage_counts,
)
from banatie.providers.ports import (
    ASPECT_RATIO_SIZES,
    ReferenceImage,
    SynthesisRequest,
    SynthesizedImage,
)
from banatie.settings import Settings

# Gemini 2.5 Flash Image works best with at most three input images.
MAX_REFERENCE_IMAGES = 3

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"WEBP", 8, "image/webp"),
    (b"GIF8", 0, "image/gif"),
)


def sniff_image_type(data: bytes) -> str | None:
    for magic, offset, mime in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return mime
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "image/avif"
    return None


class GeminiSynthesizer:
    """Prompt + up to 3 reference images -> one image, through `generate_content`.

    Image models refuse a system instruction, so the namespace style and negative prompt are
    folded into the prompt text (`prompt_text`); each reference image is sent as an inline
    image part after a short text part naming it (`Reference image 1: @logo`), so `@logo` in
    the prompt points at the right picture.
    """

    name = "gemini"

    def __init__(self, settings: Settings, *, client: GeminiClient | None = None) -> None:
        self.settings = settings
        self.model = settings.gemini_image_model
        self.client = client or GeminiClient(settings)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        if request.aspect_ratio not in ASPECT_RATIO_SIZES:
            raise ValueError(f"unsupported aspect ratio {request.aspect_ratio!r}")
        references = list(request.reference_images)
        if len(references) > MAX_REFERENCE_IMAGES:
            raise ValueError(
                f"Gemini accepts at most {MAX_REFERENCE_IMAGES} reference images, "
                f"got {len(references)}"
            )
        response = await self.client.generate(
            model=self.model,
            contents=[
                types.Content(role="user", parts=build_parts(prompt_text(request), references))
            ],
            config=types.GenerateContentConfig(
                response_modalities=["IMAGE"],
                image_config=types.ImageConfig(aspect_ratio=request.aspect_ratio),
            ),
            operation="image generation",
        )
        candidate = first_candidate(response, "image generation")
        for part in candidate_parts(candidate):
            blob = part.inline_data
            if blob is None or not blob.data or part.thought:
                continue
            declared = (blob.mime_type or "").lower()
            if declared and not declared.startswith("image/"):
                continue
            sniffed = sniff_image_type(blob.data)
            if sniffed is None:
                raise ProviderError(
                    f"Gemini returned image data that is not an image ({declared or 'no type'})"
                )
            return SynthesizedImage(
                data=blob.data,
                mime_type=sniffed,
                model=response.model_version or self.model,
                usage=usage_counts(response),
            )
        raise_for_unfinished(candidate, "image generation", what="image")


def prompt_text(request: SynthesisRequest) -> str:
    """The prompt with the namespace style and negative prompt appended as plain sentences."""
    text = request.prompt.strip()
    style = (request.style or "").strip()
    if style:
        text += f"\n\nStyle: {style}"
    negative = (request.negative_prompt or "").strip()
    if negative:
        text += f"\n\nAvoid: {negative}"
    return text


def build_parts(prompt: str, references: list[ReferenceImage]) -> list[types.Part]:
    """The prompt first, then each reference image announced by a text part."""
    parts = [types.Part.from_text(text=prompt)]
    for index, reference in enumerate(references, start=1):
        label = f"Reference image {index}"
        if reference.alias:
            alias = reference.alias if reference.alias.startswith("@") else f"@{reference.alias}"
            label += f": {alias}"
        parts.append(types.Part.from_text(text=label))
        parts.append(types.Part.from_bytes(data=reference.data, mime_type=reference.mime_type))
    return parts
