"""Every API call as data (method, path, body, how to read the answer), shared by the sync and
async clients so that each rule about a request is written once."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, TypedDict, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from banatie_sdk.models import (
    Deleted,
    Enhancement,
    FlowData,
    Generation,
    Image,
    LiveImage,
    LiveRegeneration,
    LiveScope,
    LiveSettings,
    LiveUrl,
    Namespace,
    Usage,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

FileInput = str | Path | bytes | IO[bytes]
ImageRef = str | Image


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    has_more: bool


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, str | int] | None = None
    json: Any = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    data: Mapping[str, str] | None = None
    # Safe to send again after a broken connection (no generation may be made twice).
    idempotent: bool = False


def _one(model: type[M]) -> Callable[[Any], M]:
    return lambda body: model.model_validate(body["data"])


def _page(model: type[M]) -> Callable[[Any], Page[M]]:
    def parse(body: Any) -> Page[M]:
        pagination = body.get("pagination") or {}
        items = [model.model_validate(item) for item in body["data"]]
        total = int(pagination.get("total", len(items)))
        return Page(items, total, bool(pagination.get("hasMore")))

    return parse


def _image_with_move(body: Any) -> Image:
    """Uploads and alias changes answer ``{image, aliasMovedFrom}``: one Image carries both."""
    image = Image.model_validate(body["data"]["image"])
    image.alias_moved_from = body["data"].get("aliasMovedFrom")
    return image


def ref_of(image: ImageRef) -> str:
    return image.id if isinstance(image, Image) else image


def _seg(value: str) -> str:
    return quote(value, safe="@")


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --- generations ------------------------------------------------------------------------------


class StepOptions(TypedDict, total=False):
    """Options of a step of a flow (``flow.generate``): those of ``generations.create`` but
    ``flow_id``."""

    aspect_ratio: str
    image_size: str
    template: str
    namespace: str
    reference_images: list[ImageRef]
    alias: str
    flow_alias: str
    auto_enhance: bool
    meta: dict[str, Any]


class GenerationOptions(StepOptions, total=False):
    """Options of ``generations.create`` (the API's camelCase names, in snake_case).

    ``flow_id`` left out starts a new flow; ``None`` makes a generation outside any flow.
    """

    flow_id: str | None


_GENERATION_FIELDS = {
    "aspect_ratio": "aspectRatio",
    "image_size": "imageSize",
    "template": "template",
    "namespace": "namespace",
    "alias": "alias",
    "flow_alias": "flowAlias",
    "flow_id": "flowId",
    "auto_enhance": "autoEnhance",
    "meta": "meta",
}


def generation_body(prompt: str, options: GenerationOptions) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": prompt}
    for name, value in options.items():
        if name == "reference_images":
            body["referenceImages"] = [ref_of(ref) for ref in value]  # type: ignore[attr-defined]
        elif name in _GENERATION_FIELDS:
            body[_GENERATION_FIELDS[name]] = value
        else:
            raise TypeError(f"generations.create() got an unexpected option {name!r}")
    return body


def create_generation(prompt: str, options: GenerationOptions) -> Call[Generation]:
    body = generation_body(prompt, options)
    return Call("POST", "/api/v1/generations", _one(Generation), json=body)


def get_generation(generation_id: str) -> Call[Generation]:
    path = f"/api/v1/generations/{_seg(generation_id)}"
    return Call("GET", path, _one(Generation), idempotent=True)


def list_generations(
    offset: int, limit: int, flow_id: str | None, status: str | None
) -> Call[Page[Generation]]:
    params = _clean({"offset": offset, "limit": limit, "flowId": flow_id, "status": status})
    return Call("GET", "/api/v1/generations", _page(Generation), params=params, idempotent=True)


def delete_generation(generation_id: str) -> Call[Deleted]:
    path = f"/api/v1/generations/{_seg(generation_id)}"
    return Call("DELETE", path, _one(Deleted), idempotent=True)


def regenerate_generation(generation_id: str) -> Call[Generation]:
    return Call("POST", f"/api/v1/generations/{_seg(generation_id)}/regenerate", _one(Generation))


class GenerationChanges(TypedDict, total=False):
    """What ``generations.update`` may change. A new prompt, aspect ratio, image size,
    template, namespace or ``auto_enhance`` makes the image again in place (same id, alias and
    URLs; charged); ``meta`` alone does not. ``template``/``namespace`` ``None`` clears it."""

    prompt: str
    aspect_ratio: str
    image_size: str
    template: str | None
    namespace: str | None
    auto_enhance: bool
    meta: dict[str, Any]


def update_generation(generation_id: str, changes: GenerationChanges) -> Call[Generation]:
    body = {_camel(name): value for name, value in changes.items()}
    path = f"/api/v1/generations/{_seg(generation_id)}"
    return Call("PUT", path, _one(Generation), json=body)


# --- images -----------------------------------------------------------------------------------


def _read_file(file: FileInput, filename: str | None) -> tuple[str, bytes, str]:
    if isinstance(file, str | Path):
        path = Path(file)
        data, name = path.read_bytes(), filename or path.name
    elif isinstance(file, bytes):
        data, name = file, filename or "image"
    else:
        data = file.read()
        name = filename or Path(str(getattr(file, "name", "image"))).name
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, data, mime


def upload_image(
    file: FileInput,
    *,
    alias: str | None,
    flow_id: str | None,
    flow_alias: str | None,
    meta: Mapping[str, Any] | None,
    filename: str | None,
) -> Call[Image]:
    data = _clean(
        {
            "alias": alias,
            "flowId": flow_id,
            "flowAlias": flow_alias,
            "meta": json.dumps(dict(meta)) if meta is not None else None,
        }
    )
    files = {"file": _read_file(file, filename)}
    return Call("POST", "/api/v1/images/upload", _image_with_move, files=files, data=data)


def get_image(ref: ImageRef) -> Call[Image]:
    return Call("GET", f"/api/v1/images/{_seg(ref_of(ref))}", _one(Image), idempotent=True)


def list_images(
    offset: int, limit: int, flow_id: str | None, source: str | None
) -> Call[Page[Image]]:
    params = _clean({"offset": offset, "limit": limit, "flowId": flow_id, "source": source})
    return Call("GET", "/api/v1/images", _page(Image), params=params, idempotent=True)


class ImageChanges(TypedDict, total=False):
    """What ``images.update`` may change; ``focal_point`` is ``(x, y)`` in 0..1."""

    focal_point: tuple[float, float]
    alt_text: str | None
    description: str | None
    tags: list[str]
    meta: dict[str, Any]


_IMAGE_FIELDS = {
    "focal_point": "focalPoint",
    "alt_text": "altText",
    "description": "description",
    "tags": "tags",
    "meta": "meta",
}


def update_image(ref: ImageRef, changes: ImageChanges) -> Call[Image]:
    body: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "focal_point":
            point: tuple[float, float] = value  # type: ignore[assignment]
            value = {"x": point[0], "y": point[1]}
        body[_IMAGE_FIELDS[name]] = value
    path = f"/api/v1/images/{_seg(ref_of(ref))}"
    return Call("PUT", path, _one(Image), json=body, idempotent=True)


def set_image_alias(ref: ImageRef, alias: str | None) -> Call[Image]:
    path = f"/api/v1/images/{_seg(ref_of(ref))}/alias"
    return Call("PUT", path, _image_with_move, json={"alias": alias}, idempotent=True)


def delete_image(ref: ImageRef) -> Call[Deleted]:
    return Call("DELETE", f"/api/v1/images/{_seg(ref_of(ref))}", _one(Deleted), idempotent=True)


# --- flows ------------------------------------------------------------------------------------


def _flow(flow_id: str) -> str:
    return f"/api/v1/flows/{quote(flow_id, safe='')}"


def create_flow(
    aliases: Mapping[str, ImageRef] | None, meta: Mapping[str, Any] | None
) -> Call[FlowData]:
    body = _clean(
        {
            "aliases": {name: ref_of(ref) for name, ref in aliases.items()} if aliases else None,
            "meta": dict(meta) if meta is not None else None,
        }
    )
    return Call("POST", "/api/v1/flows", _one(FlowData), json=body)


def get_flow(flow_id: str) -> Call[FlowData]:
    return Call("GET", _flow(flow_id), _one(FlowData), idempotent=True)


def list_flows(offset: int, limit: int) -> Call[Page[FlowData]]:
    params = {"offset": offset, "limit": limit}
    return Call("GET", "/api/v1/flows", _page(FlowData), params=params, idempotent=True)


def delete_flow(flow_id: str) -> Call[Deleted]:
    return Call("DELETE", _flow(flow_id), _one(Deleted), idempotent=True)


def list_flow_generations(flow_id: str, offset: int, limit: int) -> Call[Page[Generation]]:
    params = {"offset": offset, "limit": limit}
    path = f"{_flow(flow_id)}/generations"
    return Call("GET", path, _page(Generation), params=params, idempotent=True)


def list_flow_images(flow_id: str, offset: int, limit: int) -> Call[Page[Image]]:
    params = {"offset": offset, "limit": limit}
    return Call("GET", f"{_flow(flow_id)}/images", _page(Image), params=params, idempotent=True)


def set_flow_aliases(flow_id: str, aliases: Mapping[str, ImageRef | None]) -> Call[FlowData]:
    named = {name: None if ref is None else ref_of(ref) for name, ref in aliases.items()}
    path = f"{_flow(flow_id)}/aliases"
    return Call("PUT", path, _one(FlowData), json={"aliases": named}, idempotent=True)


def regenerate_flow(flow_id: str) -> Call[Generation]:
    return Call("POST", f"{_flow(flow_id)}/regenerate", _one(Generation))


# --- namespaces -------------------------------------------------------------------------------


class NamespaceFields(TypedDict, total=False):
    """A namespace's fields (``namespaces.create``/``.update``); ``None`` clears one."""

    name: str | None
    style_prompt: str | None
    system_prompt: str | None
    style_images: list[ImageRef] | None
    negative_prompt: str | None
    template: str | None
    aspect_ratio: str | None
    meta: dict[str, Any] | None


def _namespace_body(fields: NamespaceFields) -> dict[str, Any]:
    body = {_camel(name): value for name, value in fields.items()}
    style_images = fields.get("style_images")
    if style_images is not None:
        body["styleImages"] = [ref_of(ref) for ref in style_images]
    return body


def _namespace(slug: str) -> str:
    return f"/api/v1/namespaces/{quote(slug, safe='')}"


def create_namespace(slug: str, fields: NamespaceFields) -> Call[Namespace]:
    body = {"slug": slug, **_namespace_body(fields)}
    return Call("POST", "/api/v1/namespaces", _one(Namespace), json=body)


def get_namespace(slug: str) -> Call[Namespace]:
    return Call("GET", _namespace(slug), _one(Namespace), idempotent=True)


def list_namespaces(offset: int, limit: int) -> Call[Page[Namespace]]:
    params = {"offset": offset, "limit": limit}
    return Call("GET", "/api/v1/namespaces", _page(Namespace), params=params, idempotent=True)


def update_namespace(slug: str, fields: NamespaceFields) -> Call[Namespace]:
    body = _namespace_body(fields)
    return Call("PUT", _namespace(slug), _one(Namespace), json=body, idempotent=True)


def delete_namespace(slug: str) -> Call[Deleted]:
    return Call("DELETE", _namespace(slug), _one(Deleted), idempotent=True)


# --- live -------------------------------------------------------------------------------------


def _scope(slug: str) -> str:
    return f"/api/v1/live/scopes/{quote(slug, safe='')}"


def _scope_body(
    allow_new_generations: bool | None,
    new_generations_limit: int | None,
    meta: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return _clean(
        {
            "allowNewGenerations": allow_new_generations,
            "newGenerationsLimit": new_generations_limit,
            "meta": dict(meta) if meta is not None else None,
        }
    )


def create_scope(
    slug: str,
    allow_new_generations: bool | None,
    new_generations_limit: int | None,
    meta: Mapping[str, Any] | None,
) -> Call[LiveScope]:
    body = {"slug": slug, **_scope_body(allow_new_generations, new_generations_limit, meta)}
    return Call("POST", "/api/v1/live/scopes", _one(LiveScope), json=body)


def list_scopes(offset: int, limit: int) -> Call[Page[LiveScope]]:
    params = {"offset": offset, "limit": limit}
    return Call("GET", "/api/v1/live/scopes", _page(LiveScope), params=params, idempotent=True)


def get_scope(slug: str) -> Call[LiveScope]:
    return Call("GET", _scope(slug), _one(LiveScope), idempotent=True)


def update_scope(
    slug: str,
    allow_new_generations: bool | None,
    new_generations_limit: int | None,
    meta: Mapping[str, Any] | None,
) -> Call[LiveScope]:
    body = _scope_body(allow_new_generations, new_generations_limit, meta)
    return Call("PUT", _scope(slug), _one(LiveScope), json=body, idempotent=True)


def delete_scope(slug: str) -> Call[Deleted]:
    return Call("DELETE", _scope(slug), _one(Deleted), idempotent=True)


def list_scope_images(
    slug: str, offset: int, limit: int, status: str | None
) -> Call[Page[LiveImage]]:
    params = _clean({"offset": offset, "limit": limit, "status": status})
    return Call("GET", f"{_scope(slug)}/images", _page(LiveImage), params=params, idempotent=True)


def delete_scope_image(slug: str, image_id: str) -> Call[Deleted]:
    path = f"{_scope(slug)}/images/{quote(image_id, safe='')}"
    return Call("DELETE", path, _one(Deleted), idempotent=True)


def regenerate_scope(slug: str, image_id: str | None) -> Call[LiveRegeneration]:
    body = {"imageId": image_id} if image_id is not None else None
    return Call("POST", f"{_scope(slug)}/regenerate", _one(LiveRegeneration), json=body)


def get_live_settings() -> Call[LiveSettings]:
    return Call("GET", "/api/v1/live/settings", _one(LiveSettings), idempotent=True)


class LiveSettingsChanges(TypedDict, total=False):
    allowed_referrers: list[str]
    require_signature: bool
    ip_rate_limit: str | None
    auto_create_scopes: bool
    default_allow_new_generations: bool
    default_new_generations_limit: int
    rotate_signing_secret: bool


def update_live_settings(changes: LiveSettingsChanges) -> Call[LiveSettings]:
    body = {_camel(name): value for name, value in changes.items()}
    return Call("PUT", "/api/v1/live/settings", _one(LiveSettings), json=body, idempotent=True)


def create_live_url(
    scope: str,
    prompt: str,
    aspect_ratio: str | None,
    transform: str | None,
    expires_in_seconds: int | None,
    sign: bool | None,
) -> Call[LiveUrl]:
    body = {
        "scope": scope,
        "prompt": prompt,
        "aspectRatio": aspect_ratio,
        "transform": transform,
        "expiresInSeconds": expires_in_seconds,
        "sign": sign,
    }
    return Call("POST", "/api/v1/live/urls", _one(LiveUrl), json=_clean(body), idempotent=True)


# --- enhance and usage -------------------------------------------------------------------


def get_usage() -> Call[Usage]:
    return Call("GET", "/api/v1/usage", _one(Usage), idempotent=True)


def enhance(prompt: str, template: str | None, aspect_ratio: str | None) -> Call[Enhancement]:
    body = _clean({"prompt": prompt, "template": template, "aspectRatio": aspect_ratio})
    return Call("POST", "/api/v1/enhance", _one(Enhancement), json=body)
