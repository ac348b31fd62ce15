"""OpenAI's images requests as Banatie generations: the same pipeline, quota and storage."""

from __future__ import annotations

import base64
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.errors import ApiError, ValidationError
from banatie.generation import pipeline
from banatie.generation import service as generations
from banatie.images import service as images
from banatie.images.models import Image
from banatie.images.presenters import present_image
from banatie.openai_compat.schemas import ImageData, ModelOut
from banatie.providers.capabilities import ImageCapabilities
from banatie.runtime import Runtime

SOURCE = "openai"
# OpenAI's own image model names: tools hard-code them, so they mean "the active model" here.
OPENAI_MODELS = frozenset(
    {"dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"}
)
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


@dataclass(frozen=True)
class Output:
    aspect_ratio: str
    image_size: str | None


def model_ids(capabilities: ImageCapabilities) -> list[str]:
    """The ids `model` accepts besides OpenAI's names: the active model and its family."""
    return list(dict.fromkeys([capabilities.model, capabilities.family]))


def check_model(model: str | None, capabilities: ImageCapabilities) -> None:
    if model is None or model in OPENAI_MODELS or model in model_ids(capabilities):
        return
    raise ApiError(
        f"the model {model!r} does not exist here; use one of "
        + ", ".join(model_ids(capabilities))
        + " (GET /openai/v1/models)",
        code="MODEL_NOT_FOUND",
        status=404,
        details={"param": "model"},
    )


def list_models(capabilities: ImageCapabilities) -> list[ModelOut]:
    return [ModelOut(id=mid, created=0, owned_by="banatie") for mid in model_ids(capabilities)]


def choose_output(size: str | None, capabilities: ImageCapabilities) -> Output:
    """`WxH` -> the model's nearest aspect ratio, and the imageSize whose pixels come closest.
    `auto` or nothing: the model's defaults (1:1)."""
    if size is None or size.strip().lower() == "auto":
        return Output("1:1", None)
    match = _SIZE.match(size)
    if match is None or 0 in (int(match.group(1)), int(match.group(2))):
        raise ApiError(
            f"size {size[:20]!r} must be auto or WIDTHxHEIGHT, e.g. 1024x1024",
            details={"param": "size"},
        )
    width, height = int(match.group(1)), int(match.group(2))
    wanted = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = capabilities.sizes[capabilities.default_size][ratio]
        return abs(math.log(w / h) - wanted)

    ratio = min(capabilities.aspect_ratios, key=distance)
    if not capabilities.sends_image_size:
        return Output(ratio, None)
    offered = [s for s, table in capabilities.sizes.items() if ratio in table]
    best = min(
        offered,
        key=lambda s: abs(math.log(math.prod(capabilities.sizes[s][ratio]) / (width * height))),
    )
    return Output(ratio, best)


async def generate(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    *,
    prompt: str,
    n: int,
    output: Output,
    reference_images: list[str],
    meta: dict[str, Any],
) -> list[pipeline.GenerationResult]:
    """`n` generations, one after another (each charged like `POST /generations`), no flow."""
    results = []
    for _ in range(n):
        data = generations.GenerationInput(
            prompt=prompt,
            aspect_ratio=output.aspect_ratio,
            image_size=output.image_size,
            reference_images=list(reference_images),
            meta=dict(meta),
            source=SOURCE,
        )
        results.append(await generations.create(rt, session, project, data, flow_id=None))
    return results


async def store_inputs(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    files: list[tuple[str | None, bytes]],
) -> list[str]:
    """An edit's input images, stored as uploads, so that they can be references."""
    if not files:
        raise ValidationError("image is required (a PNG, JPEG or WebP)", details={"param": "image"})
    if len(files) > rt.settings.max_reference_images:
        raise ValidationError(
            f"{len(files)} images given; at most {rt.settings.max_reference_images} are allowed",
            details={"param": "image"},
        )
    ids = []
    for filename, data in files:
        image, _ = await images.upload(
            rt,
            session,
            project,
            data=data,
            filename=filename,
            alias=None,
            flow_id=None,
            flow_alias=None,
            meta={"openai": "edit input"},
        )
        ids.append(image.id)
    return ids


async def image_data(
    rt: Runtime,
    project: Project,
    result: pipeline.GenerationResult,
    response_format: str,
) -> ImageData:
    image: Image | None = result.image
    assert image is not None  # a generation that returned succeeded
    revised = result.generation.prompt
    if response_format == "b64_json":
        data = await rt.blobs.get(image.storage_key)
        return ImageData(b64_json=base64.b64encode(data).decode("ascii"), revised_prompt=revised)
    url = present_image(image, project, rt.settings).storage_url
    return ImageData(url=url, revised_prompt=revised)


def created_now() -> int:
    return int(time.time())
