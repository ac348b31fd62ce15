"""`/openai/v1`: `POST /images/generations`, `POST /images/edits` (multipart), `GET /models`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.errors import ValidationError
from banatie.openai_compat import service
from banatie.openai_compat.errors import OPENAI_ERROR_RESPONSES, OpenAIRoute
from banatie.openai_compat.schemas import (
    ImageGenerationRequest,
    ImagesResponse,
    ModelList,
)
from banatie.quota.deps import generation_rate_limit

router = APIRouter(
    prefix="/openai/v1",
    tags=["openai"],
    route_class=OpenAIRoute,
    responses=OPENAI_ERROR_RESPONSES,
)

EDITS_PATH = router.prefix + "/images/edits"
_IMAGE_FIELDS = ("image", "image[]")


def _meta(body: ImageGenerationRequest) -> dict[str, Any]:
    return {"openaiUser": body.user} if body.user else {}


async def _answer(
    runtime: RuntimeDep,
    session: SessionDep,
    project: ProjectDep,
    body: ImageGenerationRequest,
    references: list[str],
    notes: list[str],
) -> ImagesResponse:
    capabilities = await runtime.synthesizer.capabilities()
    service.check_model(body.model, capabilities)
    output = service.choose_output(body.size, capabilities)
    results = await service.generate(
        runtime,
        session,
        project,
        prompt=body.prompt,
        n=body.n,
        output=output,
        reference_images=references,
        meta=_meta(body),
    )
    fmt = body.response_format or "url"
    data = [await service.image_data(runtime, project, result, fmt) for result in results]
    first = results[0].image
    return ImagesResponse(
        created=service.created_now(),
        data=data,
        size=f"{first.width}x{first.height}" if first else None,
        notes=notes or None,
        generation_ids=[result.generation.id for result in results],
    )


@router.post(
    "/images/generations",
    dependencies=[Depends(generation_rate_limit)],
    response_model_exclude_none=True,
)
async def create_images(
    body: ImageGenerationRequest, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> ImagesResponse:
    """OpenAI's `images.generate`: `n` generations through Banatie's pipeline (no flow)."""
    return await _answer(runtime, session, project, body, [], [])


@router.post(
    "/images/edits",
    dependencies=[Depends(generation_rate_limit)],
    response_model_exclude_none=True,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image", "prompt"],
                        "properties": {
                            "image": {"type": "string", "format": "binary"},
                            "prompt": {"type": "string"},
                            "n": {"type": "integer", "minimum": 1, "maximum": 4},
                            "size": {"type": "string"},
                            "response_format": {"type": "string", "enum": ["url", "b64_json"]},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
async def edit_images(
    request: Request, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> ImagesResponse:
    """OpenAI's `images.edit`: the images (`image` or `image[]`) become reference images of new
    generations; a `mask` is not supported and is ignored (the answer's `notes` say so)."""
    limit = runtime.settings.max_reference_images
    async with request.form(max_files=limit + 2, max_fields=32) as form:
        files: list[tuple[str | None, bytes]] = []
        for name in _IMAGE_FIELDS:
            for item in form.getlist(name):
                if not isinstance(item, UploadFile):
                    raise ValidationError(f"{name} must be a file", details={"param": name})
                files.append(
                    (item.filename, await item.read(runtime.settings.max_upload_bytes + 1))
                )
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        notes = []
        if "mask" in form:
            notes.append("mask is not supported and was ignored: the whole image is a reference")
    try:
        body = ImageGenerationRequest.model_validate(fields)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValidationError(
            f"{where}: {first.get('msg')}" if where else str(first.get("msg")),
            details={"param": where or None},
        ) from exc
    references = await service.store_inputs(runtime, session, project, files)
    return await _answer(runtime, session, project, body, references, notes)


@router.get("/models")
async def list_models(runtime: RuntimeDep, project: ProjectDep) -> ModelList:
    """The image models `model` accepts (OpenAI's own names also mean the active one)."""
    return ModelList(data=service.list_models(await runtime.synthesizer.capabilities()))
