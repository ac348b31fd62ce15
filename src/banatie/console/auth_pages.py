"""Sign up, log in, log out, password reset and invitation links."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import Response

from banatie.console.web import (
    ANON_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    CsrfDep,
    FormText,
    Page,
    PageDep,
    ViewerDep,
    redirect,
    set_cookie,
)
from banatie.db.transactions import after_commit
from banatie.deps import SessionDep
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


async def _signed_in(page: Page, user: User, target: str) -> Response:
    settings = page.runtime.settings
    token, _ = await sessions.start_session(
        page.session,
        settings,
        user,
        user_agent=page.request.headers.get("user-agent"),
        ip=_client_ip(page.request),
    )
    response = redirect(target)
    set_cookie(response, page.request, SESSION_COOKIE, token, settings.console_session_days * 86400)
    response.delete_cookie(ANON_CSRF_COOKIE, path="/console")
    return response


@router.get("/signup")
async def signup_page(page: PageDep, next: str | None = None) -> Response:
    return page.render("signup.html", min_password=MIN_PASSWORD_CHARS, next=_safe_next(next))


@router.post("/signup", dependencies=[CsrfDep])
async def signup(
    page: PageDep,
    email: FormText = "",
    password: FormText = "",
    organization: FormText = "",
    next: FormText = "",
) -> Response:
    try:
        created = await users.sign_up(
            page.session, email=email, password=password, organization_name=organization
        )
    except ApiError as exc:
        return page.refused(
            exc,
            "signup.html",
            email=email,
            organization=organization,
            min_password=MIN_PASSWORD_CHARS,
            next=_safe_next(next),
        )
    target = _safe_next(next)
    if target == "/console":
        target = f"/console/{created.organization.slug}/{created.project.slug}?welcome=1"
    return await _signed_in(page, created.user, target)


@router.get("/login")
async def login_page(page: PageDep, next: str | None = None) -> Response:
    if page.viewer.user is not None:
        return redirect(_safe_next(next))
    return page.render("login.html", next=_safe_next(next))


@router.post("/login", dependencies=[CsrfDep])
async def login(
    page: PageDep, email: FormText = "", password: FormText = "", next: FormText = ""
) -> Response:
    runtime = page.runtime
    try:
        user = await sessions.log_in(
            page.session,
            runtime.settings,
            runtime.rate_limiter,
            email=email,
            password=password,
            ip=_client_ip(page.request),
        )
    except ApiError as exc:
        return page.refused(exc, "login.html", email=email, next=_safe_next(next))
    return await _signed_in(page, user, _safe_next(next))


@router.post("/logout", dependencies=[CsrfDep])
async def logout(viewer: ViewerDep, session: SessionDep) -> Response:
    if viewer.record is not None:
        await sessions.end_session(session, viewer.record)
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("/reset")
async def reset_request_page(page: PageDep) -> Response:
    return page.render("reset_request.html")


@router.post("/reset", dependencies=[CsrfDep])
async def reset_request(page: PageDep, email: FormText = "") -> Response:
    token = await resets.request_reset(page.session, email)
    if token is not None:
        address = email.strip().lower()
        settings = page.runtime.settings
        link = f"{settings.public_base_url.rstrip('/')}/console/reset/{token}"
        if mail.configured(settings):
            message = mail.reset_message(settings, address, link)
            after_commit(page.session, lambda: mail.send_later(settings, message))
        else:
            # No mail server: the link goes to the server's log, for its operator to pass on
            # (`banatie users reset-link EMAIL` prints one too).
            log.warning("password reset link for %s: %s", address, link)
    return page.render("reset_request.html", sent=True, email=email)


@router.get("/reset/{token}")
async def reset_page(token: str, page: PageDep) -> Response:
    user = await resets.check_reset(page.session, token)
    return page.render("reset.html", token=token, email=user.email, min_password=MIN_PASSWORD_CHARS)


@router.post("/reset/{token}", dependencies=[CsrfDep])
async def reset(token: str, page: PageDep, password: FormText = "") -> Response:
    try:
        user = await resets.reset_password(page.session, token, password)
    except ApiError as exc:
        return page.refused(exc, "reset.html", token=token, min_password=MIN_PASSWORD_CHARS)
    return await _signed_in(page, user, "/console")


@router.get("/invite/{token}")
async def invitation_page(token: str, page: PageDep) -> Response:
    invitation = await invitations.open_invitation(page.session, token)
    return page.render("invite.html", invitation=invitation, token=token)


@router.post("/invite/{token}", dependencies=[CsrfDep])
async def accept_invitation(token: str, viewer: ViewerDep, session: SessionDep) -> Response:
    if viewer.user is None:
        return redirect(f"/console/login?next=/console/invite/{token}")
    membership = await invitations.accept_invitation(session, token, viewer.user)
    return redirect(f"/console/{membership.organization.slug}")
