"""A project's pages: its start page and its API keys."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from banatie.console.context import ProjectPageDep
from banatie.console.web import ConsoleRoute, CsrfDep, FormText, redirect
from banatie.errors import ValidationError
from banatie.users import service as users

router = APIRouter(
    prefix="/console/{org}/{project}", route_class=ConsoleRoute, include_in_schema=False
)


@router.get("")
async def project_home(page: ProjectPageDep, welcome: str | None = None) -> Response:
    return redirect(f"{page.base}/playground" + ("?welcome=1" if welcome else ""))


def _days(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError("Expires in (days) must be a whole number") from exc


@router.get("/keys")
async def keys_page(page: ProjectPageDep) -> Response:
    return page.render(
        "keys.html", page="keys", keys=await users.project_keys(page.session, page.project)
    )


@router.post("/keys", dependencies=[CsrfDep])
async def create_key(
    page: ProjectPageDep, name: FormText = "", expires_in_days: FormText = "90"
) -> Response:
    issued = None
    error = None
    try:
        issued = await users.create_project_key(
            page.session,
            page.membership,
            page.project,
            name=name.strip() or None,
            expires_in_days=_days(expires_in_days),
        )
    except ValidationError as exc:  # checked before any write
        error = exc.message
    return page.render(
        "keys.html",
        201 if issued else 400,
        page="keys",
        keys=await users.project_keys(page.session, page.project),
        issued=issued,
        error=error,
        api_base=page.runtime.settings.public_base_url.rstrip("/"),
    )


@router.post("/keys/{key_id}/revoke", dependencies=[CsrfDep])
async def revoke_key(key_id: str, page: ProjectPageDep) -> Response:
    await users.revoke_project_key(page.session, page.membership, page.project, key_id)
    return redirect(f"{page.base}/keys")
