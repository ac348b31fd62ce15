"""`/api/v1/namespaces`: a project's house styles."""

from __future__ import annotations

from fastapi import APIRouter

from banatie.deps import ProjectDep, RuntimeDep, SessionDep
from banatie.namespaces import service
from banatie.namespaces.presenters import present_namespace
from banatie.namespaces.schemas import (
    DeletedNamespace,
    NamespaceCreate,
    NamespaceOut,
    NamespaceUpdate,
)
from banatie.path_rows import NamespaceDep
from banatie.schemas import ERROR_RESPONSES, Envelope, ListEnvelope, PageQuery, ok, page

router = APIRouter(prefix="/api/v1/namespaces", tags=["namespaces"], responses=ERROR_RESPONSES)


@router.post("", status_code=201)
async def create_namespace(
    body: NamespaceCreate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[NamespaceOut]:
    """A house style: generations, live URLs (`namespace=`) and uploads that name it inherit
    its style prompt, system prompt, style images, negative prompt and defaults."""
    fields = body.model_dump(exclude_unset=True, exclude={"slug"})
    return ok(present_namespace(await service.create(runtime, session, project, body.slug, fields)))


@router.get("")
async def list_namespaces(
    session: SessionDep, project: ProjectDep, paging: PageQuery
) -> ListEnvelope[NamespaceOut]:
    """The project's namespaces, by slug."""
    rows, total = await service.list_namespaces(session, project, paging)
    return page([present_namespace(row) for row in rows], total=total, at=paging)


@router.get("/{slug}")
async def get_namespace(namespace: NamespaceDep) -> Envelope[NamespaceOut]:
    """One namespace (its slug is case-insensitive)."""
    return ok(present_namespace(namespace))


@router.put("/{slug}")
async def update_namespace(
    slug: str, body: NamespaceUpdate, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[NamespaceOut]:
    """Change the given fields (null clears one). A new style changes what its live URLs show:
    their next request generates in the new style; images already made keep their ids."""
    namespace = await service.get(session, project, slug)
    fields = body.model_dump(exclude_unset=True)
    return ok(present_namespace(await service.update(runtime, session, project, namespace, fields)))


@router.delete("/{slug}")
async def delete_namespace(
    namespace: NamespaceDep, runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[DeletedNamespace]:
    """Delete the namespace; its images and generations are kept, without a namespace."""
    slug = namespace.slug
    kept = await service.delete(runtime, session, project, namespace)
    return ok(DeletedNamespace(slug=slug, images_kept=kept))
