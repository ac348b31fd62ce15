"""FastAPI dependencies: the runtime, a database session per request, and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.auth import Principal, authenticate, read_key, require_master
from banatie.accounts.models import Project
from banatie.errors import Forbidden
from banatie.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(request: Request, runtime: RuntimeDep, session: SessionDep) -> Principal:
    return await authenticate(session, read_key(request), runtime.key_tracker)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_master(principal: PrincipalDep) -> Principal:
    return require_master(principal)


MasterDep = Annotated[Principal, Depends(get_master)]


async def get_project(principal: PrincipalDep) -> Project:
    if principal.project is None:
        raise Forbidden("this route needs a project key; create one with POST /api/admin/keys")
    return principal.project


ProjectDep = Annotated[Project, Depends(get_project)]
