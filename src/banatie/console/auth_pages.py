"""Sign up, log in, log out, password reset and invitation links."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from banatie.console.web import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    CsrfDep,
    ViewerDep,
    redirect,
    render,
    set_cookie,
)
from banatie.db.transactions import after_commit
from banatie.deps import RuntimeDep, SessionDep
from banatie.errors import ApiError
from banatie.users import invitations, mail, resets, sessions
from banatie.users import service as users
from banatie.users.credentials import MIN_PASSWORD_CHARS
from banatie.users.models import User

log = logging.getLogger(__name__)
router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path of this console: never another site (open redirect)."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return "/console"


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _signed_in(
    request: Request, runtime: RuntimeDep, session: SessionDep, user: User, target: str
) -> Response:
    token, _ = await sessions.start_session(
        session,
        runtime.settings,
        user,
        user_agent=request.headers.get("user-agent"),
        ip=_client_ip(request),
    )
    response = redirect(target)
    set_cookie(
        response, request, SESSION_COOKIE, token, runtime.settings.console_session_days * 86400
    )
    response.delete_cookie(ANON_CSRF_COOKIE, path="/console")
    return response


@router.get("/signup")
async def signup_page(request: Request, viewer: ViewerDep, next: str | None = None) -> Response:
    return render(
        request, viewer, "signup.html", min_password=MIN_PASSWORD_CHARS, next=_safe_next(next)
    )


@router.post("/signup", dependencies=[CsrfDep])
async def signup(
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    organization: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        created = await users.sign_up(
            session, email=email, password=password, organization_name=organization
        )
    except ApiError as exc:
        return render(
            request,
            viewer,
            "signup.html",
            exc.status,
            error=exc.message,
            email=email,
            organization=organization,
            min_password=MIN_PASSWORD_CHARS,
            next=_safe_next(next),
        )
    target = _safe_next(next)
    if target == "/console":
        target = f"/console/{created.organization.slug}/{created.project.slug}?welcome=1"
    return await _signed_in(request, runtime, session, created.user, target)


@router.get("/login")
async def login_page(request: Request, viewer: ViewerDep, next: str | None = None) -> Response:
    if viewer.user is not None:
        return redirect(_safe_next(next))
    return render(request, viewer, "login.html", next=_safe_next(next))


@router.post("/login", dependencies=[CsrfDep])
async def login(
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = await sessions.log_in(
            session,
            runtime.settings,
            runtime.rate_limiter,
            email=email,
            password=password,
            ip=_client_ip(request),
        )
    except ApiError as exc:
        response = render(
            request,
            viewer,
            "login.html",
            exc.status,
            error=exc.message,
            email=email,
            next=_safe_next(next),
        )
        response.headers.update(exc.headers)
        return response
    return await _signed_in(request, runtime, session, user, _safe_next(next))


@router.post("/logout", dependencies=[CsrfDep])
async def logout(viewer: ViewerDep, session: SessionDep) -> Response:
    if viewer.record is not None:
        await sessions.end_session(session, viewer.record)
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/reset")
async def reset_request_page(request: Request, viewer: ViewerDep) -> Response:
    return render(request, viewer, "reset_request.html")


@router.post("/reset", dependencies=[CsrfDep])
async def reset_request(
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
) -> Response:
    token = await resets.request_reset(session, email)
    if token is not None:
        address = email.strip().lower()
        link = f"{runtime.settings.public_base_url.rstrip('/')}/console/reset/{token}"
        settings = runtime.settings
        if mail.configured(settings):
            message = mail.reset_message(settings, address, link)
            after_commit(session, lambda: mail.send_later(settings, message))
        else:
            # No mail server: the link goes to the server's log, for its operator to pass on
            # (`banatie users reset-link EMAIL` prints one too).
            log.warning("password reset link for %s: %s", address, link)
    return render(request, viewer, "reset_request.html", sent=True, email=email)


@router.get("/reset/{token}")
async def reset_page(
    token: str, request: Request, viewer: ViewerDep, session: SessionDep
) -> Response:
    user = await resets.check_reset(session, token)
    return render(
        request,
        viewer,
        "reset.html",
        token=token,
        email=user.email,
        min_password=MIN_PASSWORD_CHARS,
    )


@router.post("/reset/{token}", dependencies=[CsrfDep])
async def reset(
    token: str,
    request: Request,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = await resets.reset_password(session, token, password)
    except ApiError as exc:
        return render(
            request,
            viewer,
            "reset.html",
            exc.status,
            token=token,
            error=exc.message,
            min_password=MIN_PASSWORD_CHARS,
        )
    return await _signed_in(request, runtime, session, user, "/console")


@router.get("/invite/{token}")
async def invitation_page(
    token: str, request: Request, viewer: ViewerDep, session: SessionDep
) -> Response:
    invitation = await invitations.open_invitation(session, token)
    return render(request, viewer, "invite.html", invitation=invitation, token=token)


@router.post("/invite/{token}", dependencies=[CsrfDep])
async def accept_invitation(token: str, viewer: ViewerDep, session: SessionDep) -> Response:
    if viewer.user is None:
        return redirect(f"/console/login?next=/console/invite/{token}")
    membership = await invitations.accept_invitation(session, token, viewer.user)
    return redirect(f"/console/{membership.organization.slug}")
