"""Project tools: `list_flows`, `get_flow`, `list_namespaces` — each over the service of its
REST route (`GET /flows`, `GET /flows/{id}` with `GET /flows/{id}/images`, `GET /namespaces`)."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import Field

from banatie.db.paging import PageRequest
from banatie.errors import NotFound
from banatie.flows import manage as flows
from banatie.flows.presenters import present_flow, present_flows
from banatie.images import service as images
from banatie.mcp import context
from banatie.mcp.calls import READS, Call, run, tool
from banatie.mcp.results import image_result, tool_result
from banatie.mcp.schemas import FlowDetail, FlowList, NamespaceList
from banatie.mcp.tools import Limit, Offset
from banatie.namespaces import service as namespaces
from banatie.namespaces.presenters import present_namespace
from banatie.runtime import Runtime
from banatie.schemas import pagination


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "List flows", READS)
    async def list_flows(
        ctx: Context, limit: Limit = 20, offset: Offset = 0
    ) -> Annotated[CallToolResult, FlowList]:
        """The project's flows (chains of related images), the most recently changed first, with
        their aliases and how many generations and images each holds. Pass a flow's id as
        flowId to generate_image to continue it."""

        async def work(call: Call) -> CallToolResult:
            at = PageRequest(limit, offset)
            rows, total = await flows.list_flows(call.session, call.project, at)
            items = await present_flows(call.session, call.project, rows)
            result = FlowList(flows=items, pagination=pagination(total, at, len(items)))
            return tool_result(f"{len(items)} of {total} flows", result)

        return await run(rt, ctx, work)

    @tool(server, "Get a flow", READS)
    async def get_flow(
        ctx: Context,
        flowId: Annotated[
            str | None, Field(description="A flow id; default the conversation's current flow.")
        ] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="At most this many images.")] = 20,
    ) -> Annotated[CallToolResult, FlowDetail]:
        """One flow with its aliases and its images, the latest first: in its prompts '@last' is
        the latest generated one, '@first' the first, '@upload' the latest uploaded. Without
        flowId: the conversation's current flow."""

        async def work(call: Call) -> CallToolResult:
            wanted = flowId or await context.current_flow(call)
            if wanted is None:
                raise NotFound(
                    "this conversation has no current flow yet: generate an image first, "
                    "or give flowId",
                    code="FLOW_NOT_FOUND",
                )
            flow = await flows.get(call.session, call.project, wanted)
            at = PageRequest(limit, 0)
            rows, total = await images.list_images(call.session, call.project, at, flow_id=flow.id)
            result = FlowDetail(
                flow=await present_flow(call.session, call.project, flow),
                images=[image_result(call.rt, call.project, row) for row in rows],
                pagination=pagination(total, at, len(rows)),
            )
            return tool_result(f"Flow {flow.id}: {total} images", result)

        return await run(rt, ctx, work)

    @tool(server, "List namespaces (house styles)", READS)
    async def list_namespaces(
        ctx: Context, limit: Limit = 20, offset: Offset = 0
    ) -> Annotated[CallToolResult, NamespaceList]:
        """The project's namespaces: house styles with a style prompt, things to avoid, style
        reference images and default template and aspect ratio. Pass a slug as `namespace` to
        generate_image or live_image_url so images share one look; the resource
        banatie://namespaces/{slug} is the full style guide."""

        async def work(call: Call) -> CallToolResult:
            at = PageRequest(limit, offset)
            rows, total = await namespaces.list_namespaces(call.session, call.project, at)
            result = NamespaceList(
                namespaces=[present_namespace(row) for row in rows],
                pagination=pagination(total, at, len(rows)),
            )
            return tool_result(f"{len(rows)} of {total} namespaces", result)

        return await run(rt, ctx, work)
