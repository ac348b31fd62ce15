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
from banatie.delivery import presets
from banatie.delivery.params import Anchor, FormatParam, Mode, TransformError
from banatie.errors import ValidationError
from banatie.images import service as images
from banatie.live import links
from banatie.live.schemas import LiveUrlOut, LiveUrlRequest
from banatie.mcp import context, fetch
from banatie.mcp.calls import Call, run
from banatie.mcp.results import image_result, preview, tool_result
from banatie.mcp.schemas import AliasResult, Deleted, ImageList, TransformResult, pagination
from banatie.mcp.tools import Alias, AspectRatio, FlowAlias, FlowId, ImageRef, Namespace, Template
from banatie.runtime import Runtime

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def register(server: MCPServer, rt: Runtime) -> None:
    @server.tool(
        name="upload_image",
        title="Upload an image",
        description=(
            "Store an image you have (a logo, a photo, a screenshot) so prompts can reference it: "
            "give it as base64 (`data`) or as a public http(s) `url` the server fetches. PNG, "
            "JPEG or WebP. Give it an alias (@logo) to write '@logo' in later prompts; it also "
            "joins the conversation's flow as @upload."
        ),
        annotations=ToolAnnotations(read_only_hint=False, open_world_hint=True),
    )
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
            result = AliasResult(
                image=image_result(call.rt, call.project, image), alias_moved_from=moved_from
            )
            # Commits the upload: the preview is rendered from the stored image.
            await context.remember_flow(call, result.image.flow_id)
            shown = await preview(call.rt, call.project, image)
            return tool_result(f"Uploaded: {result.image.url}", result, [shown])

        return await run(rt, ctx, work)

    @server.tool(
        name="list_images",
        title="List images",
        description="The project's images, newest first, with their URLs, sizes and aliases.",
        annotations=READ_ONLY,
    )
    async def list_images(
        ctx: Context,
        flowId: Annotated[str | None, Field(description="Only this flow's images.")] = None,
        source: Annotated[
            Literal["generated", "uploaded"] | None,
            Field(description="Only generated or uploaded images."),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        offset: Annotated[int, Field(ge=0, le=1_000_000_000)] = 0,
    ) -> Annotated[CallToolResult, ImageList]:
        async def work(call: Call) -> CallToolResult:
            rows, total = await images.list_images(
                call.session,
                call.project,
                flow_id=flowId,
                source=source,
                limit=limit,
                offset=offset,
            )
            result = ImageList(
                images=[image_result(call.rt, call.project, row) for row in rows],
                pagination=pagination(total, limit, offset, len(rows)),
            )
            return tool_result(f"{len(rows)} of {total} images", result)

        return await run(rt, ctx, work)

    @server.tool(
        name="get_image",
        title="Get an image",
        description="One image by id or alias: URLs, srcset, size, alt text, focal point, "
        "ready <img>/<picture> tags, and a small preview to look at.",
        annotations=READ_ONLY,
    )
    async def get_image(ctx: Context, image: ImageRef) -> Annotated[CallToolResult, AliasResult]:
        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            result = AliasResult(
                image=image_result(call.rt, call.project, found), alias_moved_from=None
            )
            shown = await preview(call.rt, call.project, found)
            return tool_result(f"Image {found.id}", result, [shown])

        return await run(rt, ctx, work)

    @server.tool(
        name="set_alias",
        title="Set an image's alias",
        description="Give an image a project alias (@hero), moving it from the image that held "
        "it; URLs by alias then serve this image. `alias: null` removes the image's alias.",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, open_world_hint=False
        ),
    )
    async def set_alias(
        ctx: Context,
        image: ImageRef,
        alias: Annotated[str | None, Field(description="@name, or null to remove the alias.")],
    ) -> Annotated[CallToolResult, AliasResult]:
        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            if alias is not None and not alias.strip():
                raise ValidationError("alias must not be empty; send null to remove it")
            moved_from = await images.set_alias(call.rt.delivery, call.session, found, alias)
            result = AliasResult(
                image=image_result(call.rt, call.project, found), alias_moved_from=moved_from
            )
            return tool_result(f"{found.id} is now {found.alias or 'without alias'}", result)

        return await run(rt, ctx, work)

    @server.tool(
        name="delete_image",
        title="Delete an image",
        description="Delete an image and its variants for good; its URLs stop working.",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, open_world_hint=False
        ),
    )
    async def delete_image(ctx: Context, image: ImageRef) -> Annotated[CallToolResult, Deleted]:
        async def work(call: Call) -> CallToolResult:
            found = await images.resolve_ref(call.session, call.project, image)
            image_id = found.id
            await images.delete(call.rt.image_cleanup, call.session, found)
            return tool_result(f"Deleted {image_id}", Deleted(id=image_id))

        return await run(rt, ctx, work)

    @server.tool(
        name="transform_url",
        title="Transformed image URL",
        description=(
            "A URL of a stored image resized, cropped or converted on the fly (signed when the "
            "server signs URLs). mode=crop keeps the image's focal point unless anchor says "
            "otherwise; format=auto serves AVIF/WebP/JPEG as the browser accepts."
        ),
        annotations=READ_ONLY,
    )
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
            url = presets.transform_url(
                settings.delivery_base_url, call.project.organization.slug, call.project.slug,
                ref, query, settings.delivery_signing_key,
            )  # fmt: skip
            alt = html.escape(found.alt_text or "", quote=True)
            size = "".join(f' {n}="{v}"' for n, v in (("width", width), ("height", height)) if v)
            result = TransformResult(
                url=url,
                signed=bool(settings.delivery_signing_key and query),
                img_tag=f'<img src="{html.escape(url)}"{size} alt="{alt}" loading="lazy">',
            )
            return tool_result(url, result)

        return await run(rt, ctx, work)

    @server.tool(
        name="live_image_url",
        title="Live image URL",
        description=(
            "Build a live URL and its <img> tag WITHOUT generating now: the image is generated on "
            "the first request for the URL and cached (later requests are free). Use it to "
            "write pages with many images in one pass. A scope groups a page's images."
        ),
        annotations=READ_ONLY,
    )
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
