"""The MCP server over streamable HTTP, driven by the mcp SDK's own client against a running
`banatie serve`: tools, flows across calls, uploads, aliases, URLs, previews and errors."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import httpx
import pytest
import pyvips
from mcp import MCPError
from mcp.types import CallToolResult, ImageContent

from tests.integration.mcp.conftest import LOGO, McpServer, connect

pytestmark = pytest.mark.slow

TOOLS = {
    "generate_image",
    "edit_image",
    "upload_image",
    "list_images",
    "get_image",
    "set_alias",
    "delete_image",
    "enhance_prompt",
    "live_image_url",
    "transform_url",
    "get_usage",
    "list_flows",
    "get_flow",
    "list_namespaces",
}


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    content = result.structured_content
    assert isinstance(content, dict)
    return content


def error(result: CallToolResult) -> dict[str, Any]:
    assert result.is_error, result.structured_content
    assert result.structured_content is not None
    found: dict[str, Any] = result.structured_content["error"]
    return found


def preview_of(result: CallToolResult) -> pyvips.Image:
    shown = [block for block in result.content if isinstance(block, ImageContent)]
    assert len(shown) == 1
    assert shown[0].mime_type == "image/webp"
    raw = base64.b64decode(shown[0].data)
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"
    return pyvips.Image.new_from_buffer(raw, "")


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.get(url)


def rest(server: McpServer, key: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.base_url}/api/v1", headers={"X-API-Key": key or server.key}, timeout=60
    )


async def test_lists_every_tool_with_schemas(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) >= TOOLS
    generate = listed["generate_image"]
    properties = generate.input_schema["properties"]
    assert "16:9" in properties["aspectRatio"]["enum"]
    assert "photorealistic" in properties["template"]["enum"]
    assert generate.input_schema["required"] == ["prompt"]
    assert generate.output_schema is not None
    assert "imgTag" in generate.output_schema["$defs"]["ImageResult"]["properties"]
    assert all(listed[name].description for name in TOOLS)


async def test_a_flow_continues_across_calls_with_last(mcp_server: McpServer) -> None:
    session = uuid.uuid4().hex
    async with connect(mcp_server.mcp_url, mcp_server.key, session=session) as client:
        first = await client.call_tool(
            "generate_image",
            {"prompt": "a red fox in a snowy forest", "aspectRatio": "16:9", "newFlow": True},
        )
        second = await client.call_tool(
            "generate_image", {"prompt": "the same scene at night, @last"}
        )
    one, two = data(first), data(second)
    assert two["flowId"] == one["flowId"]
    assert two["referencedImages"] == [one["image"]["id"]]
    image = one["image"]
    assert (image["width"], image["height"]) == (1344, 768)
    assert image["url"].endswith(f"/img/{image['id']}")
    assert image["srcset"] and "thumbnail" in image["variants"]
    assert image["altText"] and 0 <= image["focalPoint"]["x"] <= 1
    assert f'src="{image["url"]}"' in image["imgTag"] and 'width="1344"' in image["imgTag"]
    assert image["pictureTag"].startswith('<picture><source type="image/avif"')
    shown = preview_of(first)
    assert max(shown.width, shown.height) <= 512 and shown.width == 512
    # The original is served at the permanent URL.
    original = await get(image["url"])
    shown_bytes = next(b for b in first.content if isinstance(b, ImageContent)).data
    assert original.status_code == 200
    assert original.content != base64.b64decode(shown_bytes)


async def test_an_argument_overrides_the_remembered_flow(mcp_server: McpServer) -> None:
    session = uuid.uuid4().hex
    other_flow = str(uuid.uuid4())
    async with connect(mcp_server.mcp_url, mcp_server.key, session=session) as client:
        first = data(await client.call_tool("generate_image", {"prompt": "a lighthouse"}))
        chosen = data(
            await client.call_tool("generate_image", {"prompt": "a harbour", "flowId": other_flow})
        )
        after = data(await client.call_tool("generate_image", {"prompt": "boats, @last"}))
        fresh = data(
            await client.call_tool("generate_image", {"prompt": "a desert", "newFlow": True})
        )
    assert chosen["flowId"] == other_flow != first["flowId"]
    assert after["flowId"] == other_flow  # the argument's flow became the current one
    assert after["referencedImages"] == [chosen["image"]["id"]]
    assert fresh["flowId"] not in (first["flowId"], other_flow)


async def test_sessions_of_one_key_keep_their_own_flows(mcp_server: McpServer) -> None:
    tag_a, tag_b = "a" + uuid.uuid4().hex, "b" + uuid.uuid4().hex
    async with connect(mcp_server.mcp_url, mcp_server.key, session=tag_a) as a:
        cat = data(await a.call_tool("generate_image", {"prompt": "a cat", "newFlow": True}))
    async with connect(mcp_server.mcp_url, mcp_server.key, session=tag_b) as b:
        dog = data(await b.call_tool("generate_image", {"prompt": "a dog"}))
    async with connect(mcp_server.mcp_url, mcp_server.key, session=tag_a) as a:
        night = data(await a.call_tool("generate_image", {"prompt": "at night, @last"}))
    assert dog["flowId"] != cat["flowId"]
    assert night["flowId"] == cat["flowId"]
    assert night["referencedImages"] == [cat["image"]["id"]]


async def test_upload_alias_and_reference_it(mcp_server: McpServer) -> None:
    alias = f"@logo-{uuid.uuid4().hex[:8]}"
    async with connect(mcp_server.mcp_url, mcp_server.key, session=uuid.uuid4().hex) as client:
        uploaded = await client.call_tool(
            "upload_image",
            {"data": base64.b64encode(LOGO).decode(), "filename": "logo.png", "alias": alias},
        )
        logo = data(uploaded)["image"]
        mug = data(
            await client.call_tool("generate_image", {"prompt": f"a coffee mug with {alias}"})
        )
        fetched = data(await client.call_tool("get_image", {"image": alias}))
    assert logo["alias"] == alias and (logo["width"], logo["height"]) == (96, 64)
    assert preview_of(uploaded).width == 96  # never upscaled
    assert mug["referencedImages"] == [logo["id"]]
    assert fetched["image"]["id"] == logo["id"]


async def test_upload_by_url_follows_a_redirect(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        result = data(
            await client.call_tool("upload_image", {"url": f"{mcp_server.files_url}/redirect"})
        )
        missing = error(
            await client.call_tool("upload_image", {"url": f"{mcp_server.files_url}/nothing"})
        )
    assert result["image"]["width"] == 96
    assert missing["code"] == "VALIDATION_ERROR" and "404" in missing["message"]


async def test_set_alias_moves_and_delete_removes(mcp_server: McpServer) -> None:
    alias = f"@hero-{uuid.uuid4().hex[:8]}"
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        one = data(await client.call_tool("generate_image", {"prompt": "a hero", "alias": alias}))
        two = data(await client.call_tool("generate_image", {"prompt": "a better hero"}))
        moved = data(
            await client.call_tool("set_alias", {"image": two["image"]["id"], "alias": alias})
        )
        gone = data(await client.call_tool("delete_image", {"image": one["image"]["id"]}))
        missing = error(await client.call_tool("get_image", {"image": one["image"]["id"]}))
        listed = data(await client.call_tool("list_images", {"flowId": two["flowId"]}))
    assert moved["aliasMovedFrom"] == one["image"]["id"] and moved["image"]["alias"] == alias
    assert gone == {"id": one["image"]["id"], "deleted": True}
    assert missing["code"] == "IMAGE_NOT_FOUND"
    assert [image["id"] for image in listed["images"]] == [two["image"]["id"]]
    by_alias = await get(moved["image"]["aliasUrl"])
    assert by_alias.headers["x-image-id"] == two["image"]["id"]


async def test_transform_url_serves_the_variant(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        made = data(await client.call_tool("generate_image", {"prompt": "a tall tower"}))
        built = data(
            await client.call_tool(
                "transform_url",
                {
                    "image": made["image"]["id"],
                    "width": 300,
                    "height": 200,
                    "mode": "crop",
                    "format": "webp",
                },
            )
        )
        bad = error(
            await client.call_tool("transform_url", {"image": made["image"]["id"], "width": 99999})
        )
    served = await get(built["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    image = pyvips.Image.new_from_buffer(served.content, "")
    assert (image.width, image.height) == (300, 200)
    assert 'width="300"' in built["imgTag"]
    assert bad["code"] == "VALIDATION_ERROR" and "w" in bad["details"]["param"]


async def test_live_url_generates_only_when_fetched(mcp_server: McpServer) -> None:
    prompt = f"a quiet lake {uuid.uuid4().hex[:6]}"
    with rest(mcp_server) as api:
        before = api.get("/usage").json()["data"]["used"]
        async with connect(mcp_server.mcp_url, mcp_server.key) as client:
            live = data(
                await client.call_tool(
                    "live_image_url",
                    {"prompt": prompt, "scope": "mcp", "aspectRatio": "16:9", "width": 400},
                )
            )
        assert api.get("/usage").json()["data"]["used"] == before
        assert "/live/mcp?" in live["url"] and live["imgTag"].startswith("<img src=")
        served = await get(live["url"])
        assert served.status_code == 200 and served.headers["x-cache-status"] == "MISS"
        assert pyvips.Image.new_from_buffer(served.content, "").width == 400
        assert api.get("/usage").json()["data"]["used"] == before + 1


async def test_edit_image_references_the_original(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key, session=uuid.uuid4().hex) as client:
        made = data(
            await client.call_tool("generate_image", {"prompt": "a house", "aspectRatio": "3:2"})
        )
        edited = data(
            await client.call_tool(
                "edit_image", {"image": made["image"]["id"], "instruction": "make it night"}
            )
        )
    assert edited["referencedImages"] == [made["image"]["id"]]
    assert edited["aspectRatio"] == "3:2" and edited["flowId"] == made["flowId"]


async def test_errors_are_tool_errors_with_the_api_code(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        unknown = error(
            await client.call_tool("generate_image", {"prompt": "a cup with @nosuchalias"})
        )
        ratio = error(
            await client.call_tool("generate_image", {"prompt": "x", "aspectRatio": "7:3"})
        )
    async with connect(mcp_server.mcp_url, mcp_server.exhausted_key) as client:
        quota = error(await client.call_tool("generate_image", {"prompt": "a tree"}))
    assert unknown["code"] == "ALIAS_NOT_FOUND" or "nosuchalias" in unknown["message"]
    assert unknown["status"] in (400, 404)
    assert ratio["code"] == "VALIDATION_ERROR" and "16:9" in ratio["message"]
    assert quota["code"] == "QUOTA_EXCEEDED" and quota["status"] == 429
    assert quota["retryAfter"] > 0


@pytest.mark.parametrize("key", ["bnt_not-a-real-key-at-all-000000000000000000", ""])
def test_a_bad_key_is_refused_before_mcp(mcp_server: McpServer, key: str) -> None:
    answer = httpx.post(
        mcp_server.mcp_url,
        headers={"X-API-Key": key, "Accept": "application/json, text/event-stream"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHORIZED"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_keys_are_read_and_scoped_as_by_the_rest_routes(mcp_server: McpServer) -> None:
    accept = "application/json, text/event-stream"
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    bearer = httpx.post(
        mcp_server.mcp_url,
        headers={"Authorization": f"Bearer {mcp_server.key}", "Accept": accept},
        json=message,
    )
    assert bearer.status_code == 200 and '"generate_image"' in bearer.text
    # A master key administers the organization; it holds no project to generate in.
    same = {"X-Request-ID": "one-request"}  # named in both error bodies
    master = httpx.post(
        mcp_server.mcp_url,
        headers={"X-API-Key": mcp_server.master_key, "Accept": accept, **same},
        json=message,
    )
    with rest(mcp_server, mcp_server.master_key) as api:
        by_rest = api.get("/images", headers=same)
    assert master.status_code == by_rest.status_code == 403
    assert master.json()["error"] == by_rest.json()["error"]


async def test_a_bad_key_fails_the_sdk_client(mcp_server: McpServer) -> None:
    with pytest.raises(BaseException) as failed:
        async with connect(mcp_server.mcp_url, "bnt_" + "x" * 43) as client:
            await client.list_tools()

    def leaves(exc: BaseException) -> list[BaseException]:
        if isinstance(exc, BaseExceptionGroup):
            return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
        return [exc]

    assert any(isinstance(leaf, MCPError) for leaf in leaves(failed.value))


async def test_charge_and_rate_limit_equal_the_rest_routes(mcp_server: McpServer) -> None:
    """One counter and one ledger for both channels: the throttled project's plan allows 3
    generation requests a minute, spent here by MCP and REST alike."""
    with rest(mcp_server, mcp_server.throttled_key) as api:
        used = api.get("/usage").json()["data"]["used"]
        async with connect(mcp_server.mcp_url, mcp_server.throttled_key) as client:
            data(await client.call_tool("generate_image", {"prompt": "one"}))
            assert api.get("/usage").json()["data"]["used"] == used + 1
            by_rest = api.post("/generations", json={"prompt": "two"})
            assert by_rest.status_code == 201
            assert by_rest.headers["x-ratelimit-remaining"] == "1"
            data(await client.call_tool("enhance_prompt", {"prompt": "three"}))  # counted, free
            refused = error(await client.call_tool("generate_image", {"prompt": "four"}))
        again = api.post("/generations", json={"prompt": "five"})
        assert api.get("/usage").json()["data"]["used"] == used + 2
    assert refused["code"] == "RATE_LIMIT_EXCEEDED" and refused["status"] == 429
    assert refused["retryAfter"] > 0
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"


async def test_flows_are_listed_and_read(mcp_server: McpServer) -> None:
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        none_yet = error(await client.call_tool("get_flow", {}))
        one = data(await client.call_tool("generate_image", {"prompt": "a kite", "newFlow": True}))
        two = data(
            await client.call_tool(
                "generate_image", {"prompt": "two kites, @last", "flowAlias": "@pair"}
            )
        )
        current = data(await client.call_tool("get_flow", {}))
        listed = data(await client.call_tool("list_flows", {"limit": 100}))
        by_id = data(await client.call_tool("get_flow", {"flowId": one["flowId"], "limit": 1}))
        missing = error(await client.call_tool("get_flow", {"flowId": str(uuid.uuid4())}))
    assert none_yet["code"] == "FLOW_NOT_FOUND" and none_yet["status"] == 404
    flow = current["flow"]
    assert flow["id"] == one["flowId"] == two["flowId"]
    assert (flow["generationCount"], flow["imageCount"]) == (2, 2)
    assert flow["aliases"] == {"@pair": two["image"]["id"]}
    assert [image["id"] for image in current["images"]] == [two["image"]["id"], one["image"]["id"]]
    assert current["images"][0]["imgTag"].startswith("<img ")
    assert one["flowId"] in {listed_flow["id"] for listed_flow in listed["flows"]}
    assert listed["pagination"]["total"] >= 1
    assert [image["id"] for image in by_id["images"]] == [two["image"]["id"]]
    assert by_id["pagination"] == {"total": 2, "limit": 1, "offset": 0, "hasMore": True}
    assert missing["code"] == "FLOW_NOT_FOUND"


async def test_namespaces_are_listed_and_used(mcp_server: McpServer) -> None:
    slug = f"brand-{uuid.uuid4().hex[:6]}"
    with rest(mcp_server) as api:
        made = api.post(
            "/namespaces",
            json={"slug": slug, "stylePrompt": "flat vector, pastel", "aspectRatio": "16:9"},
        )
        assert made.status_code == 201, made.text
    async with connect(mcp_server.mcp_url, mcp_server.key) as client:
        listed = data(await client.call_tool("list_namespaces", {"limit": 100}))
        styled = data(
            await client.call_tool("generate_image", {"prompt": "a teapot", "namespace": slug})
        )
        unknown = error(
            await client.call_tool("generate_image", {"prompt": "x", "namespace": "no-such-ns"})
        )
    mine = next(ns for ns in listed["namespaces"] if ns["slug"] == slug)
    assert mine["stylePrompt"] == "flat vector, pastel" and mine["aspectRatio"] == "16:9"
    assert (styled["image"]["width"], styled["image"]["height"]) == (1344, 768)  # its default
    assert "pastel" in styled["prompt"]
    assert unknown["code"] == "NAMESPACE_NOT_FOUND" and unknown["status"] == 404


async def test_concurrent_first_calls_of_a_conversation_share_its_memory(
    mcp_server: McpServer,
) -> None:
    """Two calls of a new conversation at once both remember their flow (one row per
    conversation: the loser of the insert race updates it), and the next call continues one."""
    session = uuid.uuid4().hex
    async with (
        connect(mcp_server.mcp_url, mcp_server.key, session=session) as a,
        connect(mcp_server.mcp_url, mcp_server.key, session=session) as b,
    ):
        results = await asyncio.gather(
            a.call_tool("generate_image", {"prompt": "a comet"}),
            b.call_tool("generate_image", {"prompt": "a meteor"}),
        )
        made = [data(result) for result in results]
        after = data(await a.call_tool("generate_image", {"prompt": "closer, @last"}))
    flows = {one["flowId"] for one in made}
    assert len(flows) == 2 and after["flowId"] in flows
    last = next(one for one in made if one["flowId"] == after["flowId"])
    assert after["referencedImages"] == [last["image"]["id"]]
