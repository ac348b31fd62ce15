"""The hit path of live URLs: never rate limited, costs nothing.

project ref (in-process cache, else one indexed SELECT) -> cache key -> in-process LRU of
cache key -> image, else one indexed SELECT of the ready entry joined to its image.
"""

from __future__ import annotations

from banatie.accounts.errors import ProjectNotFound
from banatie.live import repository
from banatie.live.state import CachedImage, ProjectRef
from banatie.runtime import Runtime


async def project_ref(rt: Runtime, org: str, project: str) -> ProjectRef:
    state = rt.live
    ref = state.projects.get((org, project))
    if ref is None:
        async with rt.engine.connect() as conn:
            ref = await repository.find_project(conn, org, project)
        if ref is None:
            raise ProjectNotFound(f"project {org}/{project} not found")
        state.projects.put((org, project), ref)
    return ref


async def find_ready(rt: Runtime, key: str, scope: str) -> CachedImage | None:
    """The ready image of `key` in the database (one indexed SELECT), not the LRU."""
    async with rt.engine.connect() as conn:
        return await repository.find_ready(conn, key, scope)


async def lookup(rt: Runtime, key: str, scope: str, *, use_lru: bool = True) -> CachedImage | None:
    if use_lru:
        cached = rt.live.hits.get(key)
        if cached is not None:
            return cached
    cached = await find_ready(rt, key, scope)
    if cached is not None:
        rt.live.hits.put(key, cached)
    return cached
