"""Generation tools: `generate_image`, `edit_image`, `enhance_prompt`, `get_usage`.

Each calls the service its REST route calls (`POST /generations`, `POST /enhance`,
`GET /usage`), inside `calls.run`: same key check, same project scope, the same rate limit
counter, the same charge. Argument names are the REST API's (camelCase)."""

import contextlib
import math
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from banatie.enhance import service as enhance
from banatie.enhance.presenters import present_enhancement
from banatie.enhance.schemas import EnhanceOut
from banatie.generation import service as generation
from banatie.generation.errors import GenerationNotFound
from banatie.images import service as images
from banatie.images.models import Image
from banatie.mcp import context
from banatie.mcp.calls import READS, WRITES, Call, run, tool
from banatie.mcp.results import image_result, shown, tool_result
from banatie.mcp.schemas import GenerationResult
from banatie.providers.gemini.families import GEMINI_3_1K
from banatie.providers.ports import ASPECT_RATIO_SIZES, TEMPLATES
from banatie.quota import usage
from banatie.quota.schemas import UsageOut
from banatie.runtime import Runtime
from banatie.schemas import MAX_LIMIT, MAX_OFFSET, from_row

#: Every ratio some supported model offers; the active model's set is in `/api/info`, and a
#: ratio it lacks is refused with VALIDATION_ERROR naming the ones it has.
ASPECT_RATIOS: list[str] = sorted(
    {*ASPECT_RATIO_SIZES, *GEMINI_3_1K}, key=lambda r: int(r.split(":")[0]) / int(r.split(":")[1])
)

Prompt = Annotated[
    str,
    Field(
        description="What to draw, in any language. `@name` references a stored image (an "
        "alias such as @logo, or @last/@first/@upload of the current flow) that is passed "
        "to the model."
    ),
]


def choice(description: str, values: list[str]) -> Any:
    """An optional parameter's field whose schema lists `values` (and null) at its top, beside
    anyOf, for clients that read only that."""
    return Field(description=description, json_schema_extra={"enum": [*values, None]})


AspectRatio = Annotated[
    str | None,
    choice(
        "Aspect ratio: 16:9 for heroes and banners, 1:1 for icons and avatars, 9:16 for "
        "stories, 4:3 or 3:2 for cards. Default: the namespace's, else 1:1.",
        ASPECT_RATIOS,
    ),
]
Template = Annotated[
    str | None,
    choice(
        "Style template the enhancer writes the prompt for. Default: the namespace's, else "
        "general.",
        list(TEMPLATES),
    ),
]
Namespace = Annotated[
    str | None, Field(description="Namespace whose style and defaults apply (a slug).")
]
References = Annotated[
    list[str],
    Field(description="Image ids or aliases to pass to the model as references (at most 3)."),
]
FlowId = Annotated[
    str | None,
    Field(
        description="Continue this flow instead of the conversation's current one. Omit it "
        "to continue the current flow (so @last is the previous image of this conversation)."
    ),
]
NewFlow = Annotated[
    bool,
    Field(
        description="Start a new flow (an unrelated image) instead of continuing the current one."
    ),
]
Alias = Annotated[
    str | None,
    Field(description="Project alias to give the image, e.g. @hero (moves from its holder)."),
]
FlowAlias = Annotated[str | None, Field(description="Alias within the flow only, e.g. @draft.")]
ImageRef = Annotated[str, Field(description="An image id or alias (@logo).")]
#: A list tool's page: the same bounds as the list routes' `PageQuery`.
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]


async def _flow_for(
    call: Call, flowId: str | None, newFlow: bool, fallback: str | None = None
) -> Any:
    if flowId:
        return flowId
    if newFlow:
        return generation.NEW_FLOW
    return fallback or await context.current_flow(call) or generation.NEW_FLOW


async def _generate(
    call: Call, request: generation.GenerationInput, flow_id: Any, summary: str
) -> CallToolResult:
    """Runs the generation as `POST /generations` does; its result with a preview."""
    result = await generation.create(call.rt, call.session, call.project, request, flow_id=flow_id)
    gen, image = result.generation, result.image
    assert image is not None  # a successful generation has its image
    data = from_row(
        GenerationResult,
        gen,
        generation_id=gen.id,
        referenced_images=[ref["id"] for ref in gen.referenced_images or []],
        alias_moved_from=result.alias_moved_from,
        image=image_result(call.rt, call.project, image),
    )
    await context.remember_flow(call, data.flow_id)  # commits: the preview reads the image
    return await shown(call, f"{summary}: {data.image.url}", data, image)


def _nearest_ratio(ratios: tuple[str, ...], width: int, height: int) -> str:
    def distance(ratio: str) -> float:
        w, h = (int(part) for part in ratio.split(":"))
        return abs(math.log(w / h) - math.log(width / height))

    return min(ratios, key=distance)


async def _edit_defaults(call: Call, source: Image) -> tuple[str, str | None]:
    """The source's aspect ratio and template: its generation's, else the nearest ratio."""
    if source.generation_id:
        with contextlib.suppress(GenerationNotFound):  # deleted since: fall back
            made = await generation.get(call.session, call.project, source.generation_id)
            return made.aspect_ratio, made.template
    capabilities = await call.rt.synthesizer.capabilities()
    return _nearest_ratio(capabilities.aspect_ratios, source.width, source.height), None


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "Generate an image", WRITES)
    async def generate_image(
        ctx: Context,
        prompt: Prompt,
        # None, as in `POST /generations`: the namespace's default, else 1:1 and general.
        aspectRatio: AspectRatio = None,
        template: Template = None,
        namespace: Namespace = None,
        referenceImages: References | None = None,
        flowId: FlowId = None,
        newFlow: NewFlow = False,
        alias: Alias = None,
        flowAlias: FlowAlias = None,
        autoEnhance: Annotated[
            bool, Field(description="Let the enhancer rewrite the prompt.")
        ] = True,
        imageSize: Annotated[
            str | None, Field(description="512, 1K, 2K or 4K where the model offers it.")
        ] = None,
    ) -> Annotated[CallToolResult, GenerationResult]:
        """Generate a production-ready image from a prompt and store it. Returns its permanent
        URL, preset variant URLs and srcset, width, height, alt text, focal point, ready
        <img> and <picture> tags, and a small preview. Successive calls continue the
        conversation's flow: write '@last' in the prompt to build on the previous image (e.g.
        'the same scene at night, @last'). Counts against the monthly allowance."""

        async def work(call: Call) -> CallToolResult:
            return await _generate(
                call,
                generation.GenerationInput(
                    prompt=prompt,
                    aspect_ratio=aspectRatio,
                    image_size=imageSize,
                    template=template,
                    auto_enhance=autoEnhance,
                    namespace=namespace,
                    reference_images=list(referenceImages or []),
                    alias=alias,
                    flow_alias=flowAlias,
                    source="mcp",
                ),
                await _flow_for(call, flowId, newFlow),
                "Generated",
            )

        return await run(rt, ctx, work, rate_limited=True)

    @tool(server, "Edit an image", WRITES)
    async def edit_image(
        ctx: Context,
        image: ImageRef,
        instruction: Annotated[str, Field(description="What to change, in any language.")],
        aspectRatio: Annotated[
            str | None, choice("Default: the original's.", ASPECT_RATIOS)
        ] = None,
        alias: Alias = None,
        flowAlias: FlowAlias = None,
        flowId: FlowId = None,
    ) -> Annotated[CallToolResult, GenerationResult]:
        """Make a new image from an existing one and an instruction ('remove the background',
        'make it night', 'add a red scarf'). The original is passed to the model as a
        reference and kept; the result continues the original's flow, with its aspect ratio
        unless told otherwise. Counts against the monthly allowance."""

        async def work(call: Call) -> CallToolResult:
            source = await images.resolve_ref(call.session, call.project, image)
            ratio, template = await _edit_defaults(call, source)
            return await _generate(
                call,
                generation.GenerationInput(
                    prompt=instruction,
                    aspect_ratio=aspectRatio or ratio,
                    template=template,
                    reference_images=[source.id],
                    alias=alias,
                    flow_alias=flowAlias,
                    source="mcp",
                ),
                await _flow_for(call, flowId, False, source.flow_id),
                f"Edited {image}",
            )

        return await run(rt, ctx, work, rate_limited=True)

    @tool(server, "Enhance a prompt", READS)
    async def enhance_prompt(
        ctx: Context, prompt: Prompt, template: Template = None, aspectRatio: AspectRatio = None
    ) -> Annotated[CallToolResult, EnhanceOut]:
        """Show what the prompt enhancer would send to the image model for this prompt
        (translated to English, rewritten for the template and aspect ratio), without
        generating. Free, but rate limited like generations."""

        async def work(call: Call) -> CallToolResult:
            # As `POST /enhance`: no template is general, no aspect ratio 1:1.
            made = await enhance.enhance(call.rt, prompt, template, aspectRatio or "1:1")
            done = present_enhancement(made)
            return tool_result("Enhanced prompt", done)

        return await run(rt, ctx, work, rate_limited=True)

    @tool(server, "Usage and limits", READS)
    async def get_usage(ctx: Context) -> Annotated[CallToolResult, UsageOut]:
        """The project's plan, generations used and remaining this month, when the allowance
        resets, the rate limit and storage used."""

        async def work(call: Call) -> CallToolResult:
            report = await usage.report(call.session, call.project, call.rt.settings)
            return tool_result("Usage", report)

        return await run(rt, ctx, work)
