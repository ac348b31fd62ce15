"""What a tool hands back: the image as an agent places it (URLs, srcset, size, alt text,
focal point, a ready `<img>` and `<picture>`), plus a small WebP preview to look at."""

from __future__ import annotations

import base64
import html
import json
from typing import Any
from urllib.parse import parse_qsl

from mcp.types import CallToolResult, ContentBlock, ImageContent, TextContent
from pydantic import BaseModel, Field

from banatie.accounts.models import Project
from banatie.delivery import presets, signing
from banatie.delivery import service as delivery
from banatie.delivery.urls import image_path
from banatie.images.models import Image
from banatie.images.presenters import present_image
from banatie.images.schemas import FocalPoint, ImageOut
from banatie.mcp.calls import Call
from banatie.runtime import Runtime
from banatie.schemas import CamelModel

#: The preview handed to the model: small enough for its context, never the original.
PREVIEW_MAX_PX = 512
PREVIEW_QUERY = f"w={PREVIEW_MAX_PX}&h={PREVIEW_MAX_PX}&mode=max&format=webp&quality=75"


class ImageResult(CamelModel):
    id: str
    alias: str | None = Field(description="the project alias (`@name`), if the image holds one")
    url: str = Field(description="permanent, immutable URL of the original (by id)")
    alias_url: str | None = Field(description="URL by alias: follows the alias when it moves")
    flow_id: str | None
    generation_id: str | None
    width: int
    height: int
    mime_type: str
    alt_text: str | None
    focal_point: FocalPoint = Field(description="x, y in 0..1: keep it in view when cropping")
    object_position: str = Field(description="CSS object-position from the focal point")
    variants: dict[str, str] = Field(description="preset name -> URL (thumbnail, card, hero, …)")
    srcset: str | None
    img_tag: str = Field(description="ready <img> with src, srcset, sizes, width, height, alt")
    picture_tag: str = Field(description="ready <picture> with AVIF and WebP sources")
    placeholder_hash: str | None = Field(description="BlurHash of the image")
    dominant_colors: list[str]


#: What an image result says as the API's `ImageOut` says it.
_SHARED = set(ImageResult.model_fields) & set(ImageOut.model_fields)


def _srcset(rt: Runtime, project: Project, image: Image, fmt: str) -> str:
    host = presets.ImageHost.of(rt.settings, project.organization.slug, project.slug)
    return presets.srcset(host, image.id, image.width, fmt=fmt)


def image_result(rt: Runtime, project: Project, image: Image) -> ImageResult:
    out: ImageOut = present_image(image, project, rt.settings)
    alt = html.escape(out.alt_text or "", quote=True)
    sizes = f"(max-width: {out.width}px) 100vw, {out.width}px"
    common = (
        f'width="{out.width}" height="{out.height}" alt="{alt}" loading="lazy" decoding="async"'
    )
    srcset = f' srcset="{html.escape(out.srcset)}" sizes="{sizes}"' if out.srcset else ""
    img = f'<img src="{html.escape(out.storage_url)}"{srcset} {common}>'
    sources = "".join(
        f'<source type="image/{fmt}" srcset="{html.escape(_srcset(rt, project, image, fmt))}" '
        f'sizes="{sizes}">'
        for fmt in ("avif", "webp")
    )
    picture = f'<picture>{sources}<img src="{html.escape(out.storage_url)}" {common}></picture>'
    return ImageResult(
        **out.model_dump(include=_SHARED),
        url=out.storage_url,
        object_position=f"{out.focal_point.x * 100:.0f}% {out.focal_point.y * 100:.0f}%",
        img_tag=img,
        picture_tag=picture,
    )


async def preview(rt: Runtime, project: Project, image: Image) -> ImageContent:
    """A WebP of at most 512 px a side, rendered (and cached) by the delivery pipeline."""
    org = project.organization.slug
    query = PREVIEW_QUERY
    key = rt.settings.delivery_signing_key
    if key:  # signed, so it works where unsigned transforms are refused, and is never capped
        query = signing.sign_query(key, image_path(org, project.slug, image.id), query)
    reply = await delivery.deliver(
        rt,
        delivery.DeliveryRequest(
            method="GET",
            org=org,
            project=project.slug,
            ref=image.id,
            query=parse_qsl(query),
            headers={"accept": "image/webp"},
        ),
    )
    return ImageContent(
        type="image", data=base64.b64encode(reply.body).decode("ascii"), mime_type="image/webp"
    )


async def shown(call: Call, summary: str, data: BaseModel, image: Image) -> CallToolResult:
    """`tool_result` with a preview of `image` to look at (rendered from the stored image:
    commit it first)."""
    return tool_result(summary, data, [await preview(call.rt, call.project, image)])


def tool_result(
    summary: str, data: BaseModel, previews: list[ImageContent] | None = None
) -> CallToolResult:
    """Structured output (`data`, validated against the tool's output schema) plus the same as
    JSON text for clients that read only text, then the previews."""
    structured: dict[str, Any] = data.model_dump(mode="json", by_alias=True)
    content: list[ContentBlock] = [
        TextContent(type="text", text=f"{summary}\n{json.dumps(structured, indent=1)}")
    ]
    content.extend(previews or [])
    return CallToolResult(content=content, structured_content=structured)
