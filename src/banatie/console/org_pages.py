"""The console's home, an organization's projects and its members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from banatie.console.web import (
    ConsoleRoute,
    CsrfDep,
    MembershipDep,
    UserDep,
    ViewerDep,
    redirect,
    render,
)
from banatie.deps import RuntimeDep, SessionDep
from banatie.errors import ApiError
from banatie.users import invitations
from banatie.users import service as users

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@router.get("")
async def home(request: Request, viewer: ViewerDep, user: UserDep, session: SessionDep) -> Response:
    memberships = await users.memberships(session, user)
    if len(memberships) == 1:
        return redirect(f"/console/{memberships[0].organization.slug}")
    return render(request, viewer, "home.html", memberships=memberships)


@router.get("/{org}")
async def organization(
    request: Request, viewer: ViewerDep, membership: MembershipDep, session: SessionDep
) -> Response:
    projects = await users.projects_of(session, membership)
    return render(
        request,
        viewer,
        "projects.html",
        membership=membership,
        org=membership.organization,
        projects=projects,
    )


@router.post("/{org}/projects", dependencies=[CsrfDep])
async def create_project(
    request: Request,
    viewer: ViewerDep,
    membership: MembershipDep,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        project = await users.create_project(session, membership, name)
    except ApiError as exc:
        projects = await users.projects_of(session, membership)
        return render(
            request,
            viewer,
            "projects.html",
            exc.status,
            membership=membership,
            org=membership.organization,
            projects=projects,
            error=exc.message,
            name=name,
        )
    return redirect(f"/console/{membership.organization.slug}/{project.slug}?welcome=1")


@router.get("/{org}/members")
async def members(
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    membership: MembershipDep,
    session: SessionDep,
    invited: str | None = None,
) -> Response:
    return render(
        request,
        viewer,
        "members.html",
        membership=membership,
        org=membership.organization,
        members=await users.members(session, membership),
        invitations=await invitations.pending(session, membership),
        invite_link=(
            f"{runtime.settings.public_base_url.rstrip('/')}/console/invite/{invited}"
            if invited
            else None
        ),
    )


@router.post("/{org}/members/invite", dependencies=[CsrfDep])
async def invite(
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    membership: MembershipDep,
    session: SessionDep,
    role: Annotated[str, Form()] = "member",
    email: Annotated[str, Form()] = "",
) -> Response:
    _, token = await invitations.invite(session, membership, role=role, email=email or None)
    # The link is shown once, on the page the owner lands on; only its hash is kept.
    return await members(request, viewer, runtime, membership, session, invited=token)


@router.post("/{org}/members/{member_id}/remove", dependencies=[CsrfDep])
async def remove_member(member_id: str, membership: MembershipDep, session: SessionDep) -> Response:
    await users.remove_member(session, membership, member_id)
    return redirect(f"/console/{membership.organization.slug}/members")


@router.post("/{org}/invitations/{invitation_id}/withdraw", dependencies=[CsrfDep])
async def withdraw(invitation_id: str, membership: MembershipDep, session: SessionDep) -> Response:
    await invitations.withdraw_invitation(session, membership, invitation_id)
    return redirect(f"/console/{membership.organization.slug}/members")
