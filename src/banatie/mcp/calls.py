"""One tool call: authenticate the caller like the REST routes do, count it against the same
rate limit where the REST route it mirrors counts, run it, and turn every refusal into a tool
error that carries the API's code and message (never a protocol failure)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.auth import Principal, authenticate, key_from_headers
from banatie.accounts.models import Project
from banatie.db.transactions import unit_of_work
from banatie.deps import get_project
from banatie.errors import problem_of
from banatie.quota import service as quota
from banatie.runtime import Runtime

log = logging.getLogger(__name__)

#: A client may name its conversation so that two agents sharing a key keep separate flows;
#: `banatie mcp` (stdio) sends one per process.
SESSION_HEADER = "x-banatie-session"
MAX_SESSION_TAG = 64


@dataclass(frozen=True)
class Call:
    rt: Runtime
    session: AsyncSession
    principal: Principal
    project: Project
    # The conversation's tag ("" when the client sends none): see `SESSION_HEADER`.
    tag: str


Work = Callable[[Call], Awaitable[CallToolResult]]
Tool = TypeVar("Tool", bound=Callable[..., Awaitable[CallToolResult]])

#: A tool that only reads; one that changes the project (and reaches nothing outside it).
READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, open_world_hint=False)


def tool(server: MCPServer, title: str, annotations: ToolAnnotations) -> Callable[[Tool], Tool]:
    """Registers the decorated function as the tool of its name: `title`, its docstring (on one
    line) as the description an agent reads, its parameters as the input schema."""

    def register(fn: Tool) -> Tool:
        server.add_tool(fn, title=title, description=description_of(fn), annotations=annotations)
        return fn

    return register


def description_of(fn: Callable[..., Any]) -> str:
    """A tool's (resource's, prompt's) docstring on one line: what a client shows."""
    return " ".join((fn.__doc__ or "").split())


def headers_of(ctx: Context) -> Mapping[str, str]:
    return ctx.headers or {}


def session_tag(headers: Mapping[str, str]) -> str:
    return (headers.get(SESSION_HEADER) or "").strip()[:MAX_SESSION_TAG]


@asynccontextmanager
async def caller(rt: Runtime, headers: Mapping[str, str]) -> AsyncIterator[Call]:
    """The caller of this request, checked as `ProjectDep` checks a REST caller, and the call's
    unit of work (`banatie.db.transactions`): committed when the tool returns."""
    async with unit_of_work(rt.sessionmaker) as session:
        principal = await authenticate(session, key_from_headers(headers), rt.key_tracker)
        project = await get_project(principal)
        yield Call(rt, session, principal, project, session_tag(headers))


async def run(
    rt: Runtime, ctx: Context, work: Work, *, rate_limited: bool = False
) -> CallToolResult:
    """`rate_limited`: the REST route this tool mirrors counts against the plan's generation
    rate (`POST /generations`, `POST /enhance`), so the tool does too, in the same counter."""
    try:
        async with caller(rt, headers_of(ctx)) as call:
            if rate_limited:
                await quota.count_generation_request(
                    call.session, call.project, rt.settings, rt.rate_limiter
                )
            return await work(call)
    except Exception as exc:
        problem = problem_of(exc)  # what the REST route would answer
        if problem.status == 500:
            log.exception("MCP tool call failed")
        return error_result(
            problem.code, problem.message, problem.status, problem.details, problem.headers
        )


def error_result(
    code: str,
    message: str,
    status: int,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> CallToolResult:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = dict(details)
    retry_after = (headers or {}).get("Retry-After")
    if retry_after is not None and retry_after.isdigit():
        error["retryAfter"] = int(retry_after)
    body = {"error": error}
    return CallToolResult(
        content=[TextContent(type="text", text=f"{code}: {message}\n{json.dumps(body)}")],
        structured_content=body,
        is_error=True,
    )
