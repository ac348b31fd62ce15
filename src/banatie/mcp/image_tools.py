"""Image tools: `upload_image`, `list_images`, `get_image`, `set_alias`, `delete_image`,
`transform_url`, `live_image_url` — each over the service of its REST route."""

import base64
import binascii
import html
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from banatie.db.base import new_id
from banatie.db.paging import PageRequest
from banatie.delivery import presets
from banatie.delivery.params import Anchor, FormatParam, Mode, TransformError
from banatie.errors import ValidationError
from banatie.images import service as images
from banatie.images.models import Image
from banatie.live import links
from banatie.live.schemas import LiveUrlOut, LiveUrlRequest
from banatie.mcp import context, fetch
from banatie.mcp.calls import READS, Call, run, tool
from banatie.mcp.results import image_result, shown, tool_result
from banatie.mcp.schemas import AliasResult, Deleted, ImageList, TransformResult
from banatie.mcp.tools import (
    Alias,
    AspectRatio,
    FlowAlias,
    FlowId,
    ImageRef,
    Limit,
    Namespace,
    Offset,
    Template,
)
from banatie.runtime import Runtime
from banatie.schemas import pagination

#: Upload fetches a URL outside the project; an alias moves (nothing is lost); delete destroys.
FETCHES = ToolAnnotations(read_only_hint=False, open_world_hint=True)
MOVES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DESTROYS = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)


def _alias_result(call: Call, image: Image, moved_from: str | None) -> AliasResult:
    return AliasResult(
        image=image_result(call.rt, call.project, image), alias_moved_from=moved_from
    )


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "Upload an image", FETCHES)
    async def upload_image(
        ctx: Context,
        data: Annotated[str | None, Field(description="The file, base64-encoded.")] = None,
        url: Annotated[
            str | None, Field(description="A public http(s) URL to fetch it from.")
        ] = None,
        filename: Annotated[str | None, Field(description="Original file name.")] = None,
        alias: Alias = None,
        flowAlias: FlowAlias = None,
        flowId: FlowId = None,
    ) -> Annotated[CallToolResult, AliasResult]:
        """Store an image you have (a logo, a photo, a screenshot) so prompts can reference it:
        give it as base64 (`data`) or as a public http(s) `url` the server fetches. PNG, JPEG
        or WebP. Give it an alias (@logo) to write '@logo' in later prompts; it also joins
        the conversation's flow as @upload."""

        async def work(call: Call) -> CallToolResult:
            settings = call.rt.settings
            if (data is None) == (url is None):
                raise ValidationError("give the image as either data (base64) or url, not both")
            if data is not None:
                if len(data) > settings.max_upload_bytes * 4 // 3 + 4:
                    raise ValidationError(
                        f"data: the file is larger than {settings.max_upload_bytes} bytes, "
                        "the limit"
                    )
                try:
                    raw = base64.b64decode(
                        data.split(",", 1)[-1] if data.startswith("data:") else data, validate=True
                    )
                except (binascii.Error, ValueError) as exc:
                    raise ValidationError("data is not valid base64") from exc
                name = filename
            else:
                assert url is not None
                raw, fetched_name = await fetch.fetch(
                    url,
                    max_bytes=settings.max_upload_bytes,
                    allow_private=settings.fetch_private_urls,
                    timeout_seconds=settings.fetch_timeout_seconds,
                )
                name = filename or fetched_name
            flow = flowId or await context.current_flow(call) or new_id()
            image, moved_from = await images.upload(
                call.rt,
                call.session,
                call.project,
                data=raw,
                filename=name,
                alias=alias,
                flow_id=flow,
                flow_alias=flowAlias,
                meta={},
            )
            result = _alias_result(call, image, moved_from)
            # Commits the upload: the preview is rendered from the stored image.
            await context.remember_flow(call, result.image.flow_id)
            return await shown(call, f"Uploaded: {result.image.url}", result, image)

        return await run(rt, ctx, work)

    @tool(server, "List images", READS)
    async def list_images(
        ctx: Context,
        flowId: Annotated[str | None, Field(description="Only this flow's images.")] = None,
        source: Annotated[
            Literal["generated", "uploaded"] | None,
            Field(description="Only generated or uploaded images."),
        ] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> Annotated[CallToolResult, ImageList]:
        """The project's images, newest first, with their URLs, sizes and aliases."""

        async def work(call: Call) -> CallToolResult:
            at = PageRequest(limit, offset)
            rows, total = await images.list_images(
                call.session, call.project, at, flow_id=flowId, source=source
            )
            result = ImageList(
                images=[image_result(call.rt, call.project, row) for row in rows],
                pagination=pagination(total, at, len(rows)),
            )
            return tool_result(f"{len(rows)} of {total} images", result)

        return await run(rt, ctx, work)

    @tool(server, "Get an image", READS)
    async def get_image(ctx: Context, image: ImageRef) -> Annotated[CallToolResult, AliasResult]:
        """One image by id or alias: URLs, srcset, size, alt text, focal point, ready
        <img>/<picture> tags, and a small preview to look at."""

        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            result = _alias_result(call, found, None)
            return await shown(call, f"Image {found.id}", result, found)

        return await run(rt, ctx, work)

    @tool(server, "Set an image's alias", MOVES)
    async def set_alias(
        ctx: Context,
        image: ImageRef,
        alias: Annotated[str | None, Field(description="@name, or null to remove the alias.")],
    ) -> Annotated[CallToolResult, AliasResult]:
        """Give an image a project alias (@hero), moving it from the image that held it; URLs by
        alias then serve this image. `alias: null` removes the image's alias."""

        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            if alias is not None and not alias.strip():
                raise ValidationError("alias must not be empty; send null to remove it")
            moved_from = await images.set_alias(call.rt.delivery, call.session, found, alias)
            result = _alias_result(call, found, moved_from)
            return tool_result(f"{found.id} is now {found.alias or 'without alias'}", result)

        return await run(rt, ctx, work)

    @tool(server, "Delete an image", DESTROYS)
    async def delete_image(ctx: Context, image: ImageRef) -> Annotated[CallToolResult, Deleted]:
        """Delete an image and its variants for good; its URLs stop working."""

        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            image_id = found.id
            await images.delete(call.rt.image_cleanup, call.session, found)
            return tool_result(f"Deleted {image_id}", Deleted(id=image_id))

        return await run(rt, ctx, work)

    @tool(server, "Transformed image URL", READS)
    async def transform_url(
        ctx: Context,
        image: ImageRef,
        width: Annotated[int | None, Field(ge=1, description="Width in pixels.")] = None,
        height: Annotated[int | None, Field(ge=1, description="Height in pixels.")] = None,
        mode: Annotated[
            Mode,
            Field(description="max: fit inside; crop: fill and cut; pad: fit and fill; stretch."),
        ] = "max",
        format: Annotated[
            FormatParam | None, Field(description="Output format; auto negotiates.")
        ] = None,
        quality: Annotated[int | None, Field(ge=1, le=100)] = None,
        anchor: Annotated[
            Anchor | None, Field(description="Where to crop from, instead of the focal point.")
        ] = None,
        byAlias: Annotated[
            bool, Field(description="URL by alias (follows the alias) instead of by id.")
        ] = False,
    ) -> Annotated[CallToolResult, TransformResult]:
        """A URL of a stored image resized, cropped or converted on the fly (signed when the
        server signs URLs). mode=crop keeps the image's focal point unless anchor says
        otherwise; format=auto serves AVIF/WebP/JPEG as the browser accepts."""

        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            params = {
                "w": width,
                "h": height,
                "mode": mode if mode != "max" else None,
                "format": format,
                "quality": quality,
                "anchor": anchor,
            }
            query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
            try:
                call.rt.delivery.parse(
                    dict(part.split("=", 1) for part in query.split("&") if part)
                )
            except TransformError as exc:
                raise ValidationError(str(exc), details={"param": exc.param}) from exc
            settings = call.rt.settings
            ref = found.alias if byAlias and found.alias else found.id
            project = call.project
            host = presets.ImageHost.of(settings, project.organization.slug, project.slug)
            url = presets.transform_url(host, ref, query)
            alt = html.escape(found.alt_text or "", quote=True)
            size = "".join(f' {n}="{v}"' for n, v in (("width", width), ("height", height)) if v)
            result = TransformResult(
                url=url,
                signed=bool(settings.delivery_signing_key and query),
                img_tag=f'<img src="{html.escape(url)}"{size} alt="{alt}" loading="lazy">',
            )
            return tool_result(url, result)

        return await run(rt, ctx, work)

    @tool(server, "Live image URL", READS)
    async def live_image_url(
        ctx: Context,
        prompt: Annotated[str, Field(description="What to draw, in any language.")],
        scope: Annotated[
            str, Field(description="A slug grouping live images, e.g. landing.")
        ] = "default",
        aspectRatio: AspectRatio = None,
        template: Template = None,
        namespace: Namespace = None,
        width: Annotated[int | None, Field(ge=1, description="Serve this wide.")] = None,
        format: Annotated[
            FormatParam | None, Field(description="Output format; auto negotiates.")
        ] = "auto",
    ) -> Annotated[CallToolResult, LiveUrlOut]:
        """Build a live URL and its <img> tag WITHOUT generating now: the image is generated on
        the first request for the URL and cached (later requests are free). Use it to write
        pages with many images in one pass. A scope groups a page's images."""

        async def work(call: Call) -> CallToolResult:
            transform = "&".join(
                f"{k}={v}" for k, v in (("w", width), ("format", format)) if v is not None
            )
            result = await links.build(
                call.rt,
                call.session,
                call.project,
                LiveUrlRequest(
                    scope=scope,
                    prompt=prompt,
                    aspect_ratio=aspectRatio,
                    template=template,
                    namespace=namespace,
                    transform=transform or None,
                ),
            )
            return tool_result(result.url, result)

        return await run(rt, ctx, work)
