"""`/api/bootstrap/initial-key` and `/api/admin/keys`."""

from __future__ import annotations

from fastapi import APIRouter

from banatie.accounts import repository, service
from banatie.accounts.schemas import BootstrapRequest, IssuedKeyOut, KeyCreate, KeyOut
from banatie.deps import MasterDep, RuntimeDep, SessionDep
from banatie.schemas import ERROR_RESPONSES, Envelope, ok

router = APIRouter(prefix="/api", tags=["keys"], responses=ERROR_RESPONSES)


def issued(result: service.IssuedKey) -> IssuedKeyOut:
    return IssuedKeyOut(**KeyOut.of(result.record).model_dump(), key=result.secret)


@router.post("/bootstrap/initial-key", status_code=201)
async def bootstrap_initial_key(
    runtime: RuntimeDep, session: SessionDep, body: BootstrapRequest | None = None
) -> Envelope[IssuedKeyOut]:
    body = body or BootstrapRequest()
    slug = body.organization_slug or runtime.settings.first_run_organization
    return ok(issued(await service.bootstrap_master_key(session, slug, body.name)))


@router.post("/admin/keys", status_code=201)
async def create_key(
    body: KeyCreate, session: SessionDep, master: MasterDep
) -> Envelope[IssuedKeyOut]:
    result = await service.create_key_as_master(
        session,
        master.key,
        key_type=body.type,
        organization_slug=body.organization_slug,
        project_slug=body.project_slug,
        name=body.name,
        expires_in_days=body.expires_in_days,
    )
    return ok(issued(result))


@router.get("/admin/keys")
async def list_keys(session: SessionDep, master: MasterDep) -> Envelope[list[KeyOut]]:
    keys = await repository.list_keys(session, master.organization.id)
    return ok([KeyOut.of(key) for key in keys])


@router.delete("/admin/keys/{key_id}")
async def revoke_key(key_id: str, session: SessionDep, master: MasterDep) -> Envelope[KeyOut]:
    return ok(KeyOut.of(await service.revoke_key(session, master.key, key_id)))
