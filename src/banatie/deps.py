"""FastAPI dependencies: the runtime, the request's unit of work (its session), and the caller."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.auth import Principal, authenticate, read_key, require_master
from banatie.accounts.models import Project
from banatie.db.transactions import unit_of_work
from banatie.errors import Forbidden
from banatie.observability import context
from banatie.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work (`banatie.db.transactions`): it commits when the route returns
    and rolls back when it raises."""
    async with unit_of_work(runtime.sessionmaker) as session:
        yield session


#: `scope="function"`: the unit ends when the route function returns, before the response is
#: sent, so a failed commit is answered as an error and never as a success that did not happen.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


#: The two ways to send a key, as OpenAPI security schemes: Swagger UI's "Authorize" fills them
#: in for every route that depends on the caller. `read_key` reads the headers themselves.
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="A Banatie key (`bnt_…`): a project key for /api/v1, a master key for /api/admin",
    auto_error=False,
)
BEARER = HTTPBearer(
    scheme_name="Bearer",
    description="The same key as `Authorization: Bearer bnt_…`",
    auto_error=False,
)


async def get_principal(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    _key: Annotated[str | None, Security(API_KEY_HEADER)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> Principal:
    principal = await authenticate(session, read_key(request), runtime.key_tracker)
    project = principal.project.slug if principal.project is not None else None
    context.note_project(principal.organization.slug, project)  # for the access line
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_master(principal: PrincipalDep) -> Principal:
    return require_master(principal)


MasterDep = Annotated[Principal, Depends(get_master)]


async def get_project(principal: PrincipalDep) -> Project:
    if principal.project is None:
        raise Forbidden("this route needs a project key; create one with POST /api/admin/keys")
    return principal.project


ProjectDep = Annotated[Project, Depends(get_project)]


def project_row(lookup: Callable[[AsyncSession, Project, str], Awaitable[Any]], param: str) -> Any:
    """A dependency on the caller's project's row named by the path parameter `param`:
    `lookup(session, project, value)` finds it or raises its feature's not-found error.
    `ThingDep = Annotated[Thing, project_row(service.get, "thing_id")]`."""

    async def row(session: AsyncSession, project: Project, **path: str) -> Any:
        return await lookup(session, project, path[param])

    # FastAPI reads a path parameter by the name of the function's parameter: give it `param`.
    keyword = inspect.Parameter.KEYWORD_ONLY
    signature = inspect.Signature(
        [
            inspect.Parameter("session", keyword, annotation=SessionDep),
            inspect.Parameter("project", keyword, annotation=ProjectDep),
            inspect.Parameter(param, keyword, annotation=str),
        ]
    )
    setattr(row, "__signature__", signature)  # noqa: B010
    return Depends(row)
