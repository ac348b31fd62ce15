"""Resources and prompts.

Resources (listed per caller): each aliased image of the caller's project as
`banatie://images/@alias`, any image by id or alias through the template
`banatie://images/{ref}` (the same JSON as `get_image`); each namespace's style guide as
`banatie://namespaces/{slug}` (Markdown an agent reads before generating in that style).
Prompts: a page hero image, and an icon set in one style."""

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from mcp.server import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import ListResourcesResult, PaginatedRequestParams, Resource

from banatie.db.paging import PageRequest
from banatie.errors import ApiError, NotFound
from banatie.images import service as images
from banatie.mcp.calls import Call, caller, description_of, headers_of
from banatie.mcp.results import image_result
from banatie.namespaces import service as namespaces
from banatie.namespaces.models import Namespace
from banatie.namespaces.presenters import present_namespace
from banatie.runtime import Runtime

IMAGE_URI = "banatie://images/{ref}"
NAMESPACE_URI = "banatie://namespaces/{slug}"
#: At most this many aliased images (and namespaces) are listed (the templates reach any).
MAX_LISTED = 200


async def project_resources(rt: Runtime, headers: Mapping[str, str]) -> list[Resource]:
    """The caller's aliased images and namespaces as resources; none for a caller without a
    project key."""
    try:
        async with caller(rt, headers) as call:
            rows = await images.list_aliased(call.session, call.project, limit=MAX_LISTED)
            listed = [
                Resource(
                    uri=f"banatie://images/{row.alias}",
                    name=str(row.alias),
                    title=row.alt_text or row.alias,
                    description=f"{row.width}x{row.height} {row.mime_type}, id {row.id}",
                    mime_type="application/json",
                )
                for row in rows
            ]
            styles, _ = await namespaces.list_namespaces(
                call.session, call.project, PageRequest(MAX_LISTED, 0)
            )
            listed += [
                Resource(
                    uri=f"banatie://namespaces/{row.slug}",
                    name=f"namespace {row.slug}",
                    title=f"Style guide: {row.name}",
                    description=f"House style {row.slug!r}: pass namespace={row.slug!r} to "
                    "generate_image to use it",
                    mime_type="text/markdown",
                )
                for row in styles
            ]
            return listed
    except ApiError:
        return []


async def style_guide(call: Call, namespace: Namespace) -> str:
    """A namespace as a Markdown style guide: what to write, what to pass, what it looks like."""
    out = present_namespace(namespace)
    lines = [
        f"# Style guide: {out.name} (namespace `{out.slug}`)",
        "",
        f'Pass `namespace: "{out.slug}"` to generate_image or live_image_url: the style '
        "below is added to every prompt, and the defaults apply unless you give others.",
        "",
        f"- Style: {out.style_prompt or '(none)'}",
        f"- Avoid: {out.negative_prompt or '(nothing)'}",
        f"- Default template: {out.template or 'general'}",
        f"- Default aspect ratio: {out.aspect_ratio or '1:1'}",
    ]
    if out.style_images:
        lines += ["", "## Style reference images (passed to the model with every prompt)"]
        for ref in out.style_images:
            try:
                image = await images.resolve_ref(call.session, call.project, ref)
            except NotFound:
                lines.append(f"- {ref}: no longer exists")
                continue
            lines.append(f"- {ref}: {image_result(call.rt, call.project, image).url}")
    if out.system_prompt:
        lines += ["", "## Instructions the prompt enhancer follows", "", out.system_prompt]
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def reading(rt: Runtime, ctx: Context) -> AsyncIterator[Call]:
    """A resource read by this caller: the API's refusals become resource errors that carry
    the API's code (resources have no tool-error result)."""
    try:
        async with caller(rt, headers_of(ctx)) as call:
            yield call
    except NotFound as exc:
        raise ResourceNotFoundError(f"{exc.code}: {exc.message}") from exc
    except ApiError as exc:
        raise ResourceError(f"{exc.code}: {exc.message}") from exc


class BanatieMCP(MCPServer):
    """`resources/list` answers per caller: the SDK's list is fixed at start, a project's
    aliases are not."""

    def __init__(self, rt: Runtime, **options: Any) -> None:
        super().__init__(**options)
        self.rt = rt

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        listed = await super()._handle_list_resources(ctx, params)
        headers = getattr(ctx.request, "headers", None) or {}
        extra = await project_resources(self.rt, headers)
        return ListResourcesResult(resources=[*listed.resources, *extra])


HERO = """\
Make the hero image for {page} and put it on the page.

1. Call generate_image with a prompt that describes one clear subject for {page}, \
{style}, leaving calm space where the headline goes; aspectRatio "16:9"; \
template "{template}"; alias "{alias}"; newFlow true.
2. Look at the preview. If the subject is cut off or the mood is wrong, call generate_image \
again with "@last" and what to change (it continues the flow and keeps the alias on the \
better one only if you pass alias again).
3. Place the returned pictureTag in the hero section as it is (it has width, height, srcset \
and alt text). For a CSS background, use the variants.hero URL with \
background-position set to objectPosition. Add fetchpriority="high" and remove \
loading="lazy" on the hero's <img>: it is above the fold.
4. Use variants.og as the page's og:image."""

ICONS = """\
Make a set of icons in one consistent style: {icons}.

1. Call generate_image for the first icon with newFlow true, aspectRatio "1:1", \
template "{template}", a prompt "{first} icon, {style}, centered, plain background" and \
alias "@icon-{first_slug}".
2. For every other icon, call generate_image with the prompt "<name> icon in exactly the same \
style as @icon-{first_slug}" and alias "@icon-<name>", so the first icon is passed to the \
model as the style reference.
3. Use transform_url with width 64, height 64, mode "pad", format "auto" for each icon (and \
width 128 for 2x screens), and give each <img> its alt text.
4. Answer with a table: icon, alias, URL, <img> tag."""


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())[:40]


Described = TypeVar("Described", bound=Callable[..., Any])


def resource(
    server: MCPServer, uri: str, title: str, mime_type: str
) -> Callable[[Described], Described]:
    """Registers the decorated function as the resource (template) `uri`, named after it and
    described by its docstring."""

    def register(fn: Described) -> Described:
        description = description_of(fn)
        server.resource(
            uri, name=fn.__name__, title=title, description=description, mime_type=mime_type
        )(fn)
        return fn

    return register


def prompt(server: MCPServer, title: str) -> Callable[[Described], Described]:
    """Registers the decorated function as the prompt of its name, described by its docstring."""

    def register(fn: Described) -> Described:
        server.prompt(title=title, description=description_of(fn))(fn)
        return fn

    return register


def register(server: MCPServer, rt: Runtime) -> None:
    @resource(server, IMAGE_URI, "Image by id or alias", "application/json")
    async def image(ref: str, ctx: Context) -> str:
        """A stored image (banatie://images/@logo or banatie://images/<id>): its URLs, srcset,
        size, alt text, focal point and ready <img>/<picture> tags."""
        async with reading(rt, ctx) as call:
            found = await images.resolve_ref(call.session, call.project, ref)
            data = image_result(call.rt, call.project, found)
        return json.dumps(data.model_dump(mode="json", by_alias=True))

    @resource(server, NAMESPACE_URI, "Namespace style guide", "text/markdown")
    async def namespace(slug: str, ctx: Context) -> str:
        """A namespace's house style (banatie://namespaces/<slug>): style prompt, what to avoid,
        defaults and style reference images, to read before generating in it."""
        async with reading(rt, ctx) as call:
            found = await namespaces.get(call.session, call.project, slug)
            return await style_guide(call, found)

    @prompt(server, "Page hero image")
    def page_hero_image(
        page: str, style: str = "photographic, natural light", template: str = "photorealistic"
    ) -> str:
        """Generate a 16:9 hero image for a page and place it with srcset, alt text and the
        right loading hints."""
        return HERO.format(page=page, style=style, template=template, alias="@hero")

    @prompt(server, "Icon set in one style")
    def icon_set(
        icons: str, style: str = "flat, two colours, rounded", template: str = "minimalist"
    ) -> str:
        """Generate several icons that share one style: the first becomes the style reference of
        the others."""
        names = [name.strip() for name in icons.split(",") if name.strip()] or ["home"]
        first = names[0]
        return ICONS.format(
            icons=", ".join(names),
            first=first,
            first_slug=_slug(first),
            style=style,
            template=template,
        )
