"""Generation tools: `generate_image`, `edit_image`, `enhance_prompt`, `get_usage`.

Each calls the service its REST route calls (`POST /generations`, `POST /enhance`,
`GET /usage`), inside `calls.run`: same key check, same project scope, the same rate limit
counter, the same charge. Argument names are the REST API's (camelCase)."""

import contextlib
import math
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from banatie.enhance import service as enhance
from banatie.enhance.presenters import present_enhancement
from banatie.enhance.schemas import EnhanceOut
from banatie.generation import pipeline
from banatie.generation import service as generation
from banatie.generation.errors import GenerationNotFound
from banatie.images import service as images
from banatie.images.models import Image
from banatie.mcp import context
from banatie.mcp.calls import Call, run
from banatie.mcp.results import image_result, preview, tool_result
from banatie.mcp.schemas import GenerationResult
from banatie.providers.gemini.families import GEMINI_3_1K
from banatie.providers.ports import ASPECT_RATIO_SIZES, TEMPLATES
from banatie.quota import usage
from banatie.quota.schemas import UsageOut
from banatie.runtime import Runtime

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
# Optional, with the enum at the top of the schema (beside anyOf) for clients that read it.
AspectRatio = Annotated[
    str | None,
    Field(
        description="Aspect ratio: 16:9 for heroes and banners, 1:1 for icons and avatars, "
        "9:16 for stories, 4:3 or 3:2 for cards. Default: the namespace's, else 1:1.",
        json_schema_extra={"enum": [*ASPECT_RATIOS, None]},
    ),
]
Template = Annotated[
    str | None,
    Field(
        description="Style template the enhancer writes the prompt for. Default: the "
        "namespace's, else general.",
        json_schema_extra={"enum": [*TEMPLATES, None]},
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


async def _flow_for(
    call: Call, flowId: str | None, newFlow: bool, fallback: str | None = None
) -> Any:
    if flowId:
        return flowId
    if newFlow:
        return generation.NEW_FLOW
    return fallback or await context.current_flow(call) or generation.NEW_FLOW


async def _generated(call: Call, result: pipeline.GenerationResult, summary: str) -> CallToolResult:
    gen, image = result.generation, result.image
    assert image is not None  # a successful generation has its image
    data = GenerationResult(
        generation_id=gen.id,
        flow_id=gen.flow_id,
        status=gen.status,
        prompt=gen.prompt,
        original_prompt=gen.original_prompt,
        aspect_ratio=gen.aspect_ratio,
        template=gen.template,
        referenced_images=[ref["id"] for ref in gen.referenced_images or []],
        alias_moved_from=result.alias_moved_from,
        image=image_result(call.rt, call.project, image),
    )
    await context.remember_flow(call, data.flow_id)  # commits: the preview reads the image
    shown = await preview(call.rt, call.project, image)
    return tool_result(f"{summary}: {data.image.url}", data, [shown])


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
    @server.tool(
        name="generate_image",
        title="Generate an image",
        description=(
            "Generate a production-ready image from a prompt and store it. Returns its permanent "
            "URL, preset variant URLs and srcset, width, height, alt text, focal point, ready "
            "<img> and <picture> tags, and a small preview. Successive calls continue the "
            "conversation's flow: write '@last' in the prompt to build on the previous image "
            "(e.g. 'the same scene at night, @last'). Counts against the monthly allowance."
        ),
        annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False),
    )
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
        async def work(call: Call) -> CallToolResult:
            result = await generation.create(
                call.rt,
                call.session,
                call.project,
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
                flow_id=await _flow_for(call, flowId, newFlow),
            )
            return await _generated(call, result, "Generated")

        return await run(rt, ctx, work, rate_limited=True)

    @server.tool(
        name="edit_image",
        title="Edit an image",
        description=(
            "Make a new image from an existing one and an instruction ('remove the background', "
            "'make it night', 'add a red scarf'). The original is passed to the model as a "
            "reference and kept; the result continues the original's flow, with its aspect "
            "ratio unless told otherwise. Counts against the monthly allowance."
        ),
        annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False),
    )
    async def edit_image(
        ctx: Context,
        image: ImageRef,
        instruction: Annotated[str, Field(description="What to change, in any language.")],
        aspectRatio: Annotated[
            str | None,
            Field(
                description="Default: the original's.",
                json_schema_extra={"enum": [*ASPECT_RATIOS, None]},
            ),
        ] = None,
        alias: Alias = None,
        flowAlias: FlowAlias = None,
        flowId: FlowId = None,
    ) -> Annotated[CallToolResult, GenerationResult]:
        async def work(call: Call) -> CallToolResult:
            source = await images.resolve_ref(call.session, call.project, image)
            ratio, template = await _edit_defaults(call, source)
            result = await generation.create(
                call.rt,
                call.session,
                call.project,
                generation.GenerationInput(
                    prompt=instruction,
                    aspect_ratio=aspectRatio or ratio,
                    template=template,
                    reference_images=[source.id],
                    alias=alias,
                    flow_alias=flowAlias,
                    source="mcp",
                ),
                flow_id=await _flow_for(call, flowId, False, source.flow_id),
            )
            return await _generated(call, result, f"Edited {image}")

        return await run(rt, ctx, work, rate_limited=True)

    @server.tool(
        name="enhance_prompt",
        title="Enhance a prompt",
        description=(
            "Show what the prompt enhancer would send to the image model for this prompt "
            "(translated to English, rewritten for the template and aspect ratio), without "
            "generating. Free, but rate limited like generations."
        ),
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )
    async def enhance_prompt(
        ctx: Context,
        prompt: Prompt,
        template: Template = None,
        aspectRatio: AspectRatio = None,
    ) -> Annotated[CallToolResult, EnhanceOut]:
        async def work(call: Call) -> CallToolResult:
            # As `POST /enhance`: no template is general, no aspect ratio 1:1.
            made = await enhance.enhance(call.rt, prompt, template, aspectRatio or "1:1")
            done = present_enhancement(made)
            return tool_result("Enhanced prompt", done)

        return await run(rt, ctx, work, rate_limited=True)

    @server.tool(
        name="get_usage",
        title="Usage and limits",
        description=(
            "The project's plan, generations used and remaining this month, when the allowance "
            "resets, the rate limit and storage used."
        ),
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )
    async def get_usage(ctx: Context) -> Annotated[CallToolResult, UsageOut]:
        async def work(call: Call) -> CallToolResult:
            report = await usage.report(call.session, call.project, call.rt.settings)
            return tool_result("Usage", report)

        return await run(rt, ctx, work)
