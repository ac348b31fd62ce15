"""The console's home, an organization's projects and its members."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from banatie.console.web import (
    ConsoleRoute,
    CsrfDep,
    FormText,
    MembershipDep,
    Page,
    PageDep,
    UserDep,
    redirect,
)
from banatie.deps import SessionDep
from banatie.errors import ApiError
from banatie.users import invitations
from banatie.users import service as users
from banatie.users.models import Membership

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.get("")
async def home(page: PageDep, user: UserDep) -> Response:
    memberships = await users.memberships(page.session, user)
    if len(memberships) == 1:
        return redirect(f"/console/{memberships[0].organization.slug}")
    return page.render("home.html", memberships=memberships)


async def _projects(
    page: Page, membership: Membership, status_code: int = 200, **context: Any
) -> Response:
    projects = await users.projects_of(page.session, membership)
    return page.render(
        "projects.html",
        status_code,
        membership=membership,
        org=membership.organization,
        projects=projects,
        **context,
    )


@router.get("/{org}")
async def organization(page: PageDep, membership: MembershipDep) -> Response:
    return await _projects(page, membership)


@router.post("/{org}/projects", dependencies=[CsrfDep])
async def create_project(page: PageDep, membership: MembershipDep, name: FormText = "") -> Response:
    try:
        project = await users.create_project(page.session, membership, name)
    except ApiError as exc:
        return await _projects(page, membership, exc.status, error=exc.message, name=name)
    return redirect(f"/console/{membership.organization.slug}/{project.slug}?welcome=1")


@router.get("/{org}/members")
async def members(page: PageDep, membership: MembershipDep, invited: str | None = None) -> Response:
    base = page.runtime.settings.public_base_url.rstrip("/")
    return page.render(
        "members.html",
        membership=membership,
        org=membership.organization,
        members=await users.members(page.session, membership),
        invitations=await invitations.pending(page.session, membership),
        invite_link=f"{base}/console/invite/{invited}" if invited else None,
    )


@router.post("/{org}/members/invite", dependencies=[CsrfDep])
async def invite(
    page: PageDep, membership: MembershipDep, role: FormText = "member", email: FormText = ""
) -> Response:
    _, token = await invitations.invite(page.session, membership, role=role, email=email or None)
    # The link is shown once, on the page the owner lands on; only its hash is kept.
    return await members(page, membership, invited=token)


@router.post("/{org}/members/{member_id}/remove", dependencies=[CsrfDep])
async def remove_member(member_id: str, membership: MembershipDep, session: SessionDep) -> Response:
    await users.remove_member(session, membership, member_id)
    return redirect(f"/console/{membership.organization.slug}/members")


@router.post("/{org}/invitations/{invitation_id}/withdraw", dependencies=[CsrfDep])
async def withdraw(invitation_id: str, membership: MembershipDep, session: SessionDep) -> Response:
    await invitations.withdraw_invitation(session, membership, invitation_id)
    return redirect(f"/console/{membership.organization.slug}/members")
