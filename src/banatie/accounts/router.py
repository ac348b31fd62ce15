"""`/api/bootstrap/initial-key` and `/api/admin/keys`."""

from __future__ import annotations

from fastapi import APIRouter, Request

from banatie.accounts import service
from banatie.accounts.auth import authenticate, read_key
from banatie.accounts.presenters import present_issued_key, present_key
from banatie.accounts.schemas import BootstrapRequest, IssuedKeyOut, KeyCreate, KeyOut
from banatie.deps import MasterDep, RuntimeDep, SessionDep
from banatie.schemas import ERROR_RESPONSES, Envelope, errors, ok

router = APIRouter(prefix="/api", tags=["keys"], responses=ERROR_RESPONSES)


@router.post("/bootstrap/initial-key", status_code=201, responses=errors(409))
async def bootstrap_initial_key(
    request: Request, runtime: RuntimeDep, session: SessionDep, body: BootstrapRequest | None = None
) -> Envelope[IssuedKeyOut]:
    """The installation's first master key, once. On a fresh install no key is needed; once an
    organization exists (`banatie serve` makes one on its first run), send one of its keys as
    `X-API-Key`: the master key is for that organization."""
    body = body or BootstrapRequest()
    secret = read_key(request)
    caller = await authenticate(session, secret, runtime.key_tracker) if secret else None
    result = await service.bootstrap_master_key(
        session,
        caller=caller,
        organization_slug=body.organization_slug,
        default_slug=runtime.settings.first_run_organization,
        name=body.name,
    )
    return ok(present_issued_key(result))


@router.post("/admin/keys", status_code=201)
async def create_key(
    body: KeyCreate, session: SessionDep, master: MasterDep
) -> Envelope[IssuedKeyOut]:
    spec = service.KeySpec(body.type, body.project_slug, body.name, body.expires_in_days)
    result = await service.create_key_as_master(session, master.key, body.organization_slug, spec)
    return ok(present_issued_key(result))


@router.get("/admin/keys")
async def list_keys(session: SessionDep, master: MasterDep) -> Envelope[list[KeyOut]]:
    keys = await service.list_keys(session, master.organization)
    return ok([present_key(key) for key in keys])


@router.delete("/admin/keys/{key_id}")
async def revoke_key(key_id: str, session: SessionDep, master: MasterDep) -> Envelope[KeyOut]:
    return ok(present_key(await service.revoke_key(session, master.organization, key_id)))
