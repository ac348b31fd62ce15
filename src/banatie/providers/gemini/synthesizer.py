"""`ImageSynthesizer` on Gemini's Flash image model of the day (resolved by `models.py`)."""

from __future__ import annotations

from google.genai import types

from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.errors import ProviderError, UnsupportedByModel
from banatie.providers.gemini.answers import (
    candidate_parts,
    first_candidate,
    raise_for_unfinished,
    usage_counts,
)
from banatie.providers.gemini.client import GeminiAdapter
from banatie.providers.gemini.models import ResolvedModel
from banatie.providers.ports import ReferenceImage, SynthesisRequest, SynthesizedImage

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


class GeminiSynthesizer(GeminiAdapter):
    """Prompt + up to 3 reference images -> one image, through `generate_content`.

    Image models refuse a system instruction, so the namespace style and negative prompt are
    folded into the prompt text (`prompt_text`); each reference image is sent as an inline
    image part after a short text part naming it (`Reference image 1: @logo`), so `@logo` in
    the prompt points at the right picture. The answer may mix text, thoughts (interim images
    included) and the image: the first image part that is not a thought is the result.
    """

    async def capabilities(self) -> ImageCapabilities:
        try:
            return (await self.client.models.image()).capabilities
        except ProviderError:  # not resolvable now: the best-known row (synthesize will say why)
            return self.client.models.current_image_capabilities()

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        references = list(request.reference_images)
        if len(references) > MAX_REFERENCE_IMAGES:
            raise ValueError(
                f"Gemini accepts at most {MAX_REFERENCE_IMAGES} reference images, "
                f"got {len(references)}"
            )
        contents = [types.Content(role="user", parts=build_parts(prompt_text(request), references))]

        async def attempt(model: ResolvedModel[ImageCapabilities]) -> SynthesizedImage:
            response = await self.client.generate(
                model=model.id,
                contents=contents,
                config=types.GenerateContentConfig(
                    response_modalities=["IMAGE"],
                    image_config=image_config(model.capabilities, request),
                ),
                operation="image generation",
            )
            return _image_of(response, model.id)

        return await self.client.call(
            self.client.models.image, attempt, operation="image generation"
        )


def image_config(capabilities: ImageCapabilities, request: SynthesisRequest) -> types.ImageConfig:
    """aspectRatio, and imageSize where the model takes one; refused if the model lacks them."""
    size = request.image_size
    if capabilities.dimensions(request.aspect_ratio, size) is None:
        raise UnsupportedByModel(
            f"{capabilities.model} does not offer aspectRatio {request.aspect_ratio}"
            + (f" at imageSize {size}" if size else "")
            + "; it offers "
            + ", ".join(capabilities.aspect_ratios)
            + " at imageSize "
            + ", ".join(capabilities.image_sizes)
        )
    return types.ImageConfig(
        aspect_ratio=request.aspect_ratio,
        image_size=size if size and capabilities.sends_image_size else None,
    )


def _image_of(response: types.GenerateContentResponse, model: str) -> SynthesizedImage:
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
            model=response.model_version or model,
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
    """The prompt first, then each reference image announced by a text part (a namespace's
    style images as style references: their look, not their content)."""
    parts = [types.Part.from_text(text=prompt)]
    for index, reference in enumerate(references, start=1):
        label = f"Reference image {index}"
        if reference.role == "style":
            label = f"Style reference {index}: match its palette and rendering, not its content"
        elif reference.alias:
            alias = reference.alias if reference.alias.startswith("@") else f"@{reference.alias}"
            label += f": {alias}"
        parts.append(types.Part.from_text(text=label))
        parts.append(types.Part.from_bytes(data=reference.data, mime_type=reference.mime_type))
    return parts
