"""What every console page shares: templates, the signed-in user, cookies, CSRF and errors
rendered as pages (never the API's JSON)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.deps import RuntimeDep, SessionDep
from banatie.errors import ApiError
from banatie.runtime import Runtime
from banatie.users import service as users
from banatie.users import sessions
from banatie.users.models import ConsoleSession, Membership, User

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
SESSION_COOKIE = "banatie_session"
ANON_CSRF_COOKIE = "banatie_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """Raised by a page that needs a signed-in user; answered with a redirect to log in."""


class CsrfRefused(ApiError, status=403, code="CSRF_FAILED"): ...


@dataclass
class Viewer:
    """Who is looking: the session (None when signed out) and the CSRF token forms carry."""

    record: ConsoleSession | None
    csrf: str
    new_anonymous_csrf: bool = False

    @property
    def user(self) -> User | None:
        return self.record.user if self.record else None


async def get_viewer(request: Request, session: SessionDep) -> Viewer:
    record = await sessions.current_session(session, request.cookies.get(SESSION_COOKIE))
    if record is not None:
        return Viewer(record, record.csrf_token)
    # Signed out (log-in, sign-up, reset forms): a double-submit token in its own cookie.
    anonymous = request.cookies.get(ANON_CSRF_COOKIE)
    if anonymous and 20 <= len(anonymous) <= 100:
        return Viewer(None, anonymous)
    return Viewer(None, secrets.token_urlsafe(32), new_anonymous_csrf=True)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def get_user(viewer: ViewerDep) -> User:
    if viewer.user is None:
        raise LoginRequired
    return viewer.user


UserDep = Annotated[User, Depends(get_user)]


async def check_csrf(request: Request, viewer: ViewerDep) -> None:
    """Every state-changing console request carries the token of its page: a form field, or
    the X-CSRF-Token header of the page's own scripts."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if viewer.new_anonymous_csrf or not sessions.csrf_matches(viewer.csrf, given):
        raise CsrfRefused(
            "this form has expired or did not come from this console (CSRF check failed): "
            "reload the page and try again"
        )


CsrfDep = Depends(check_csrf)


async def get_membership(org: str, user: UserDep, session: SessionDep) -> Membership:
    return await users.membership_in(session, user, org)


MembershipDep = Annotated[Membership, Depends(get_membership)]


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    runtime = request.app.state.runtime
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=runtime.settings.console_cookies_secure,
    )


def render(
    request: Request,
    viewer: Viewer,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "user": viewer.user,
            "csrf": viewer.csrf,
            "now_ts": time.time(),
            **context,
        },
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    if viewer.new_anonymous_csrf:
        set_cookie(response, request, ANON_CSRF_COOKIE, viewer.csrf, 60 * 60 * 24)
    return response


#: A form field as the console's forms send it (absent: empty).
FormText = Annotated[str, Form()]


@dataclass
class Page:
    """One console request: the request, who is looking, the runtime and the request's unit
    of work (`deps.SessionDep`)."""

    request: Request
    viewer: Viewer
    runtime: Runtime
    session: AsyncSession

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, self.viewer, template, status_code, **context)

    def fragment(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A part of a page, for the page's own scripts to put in place."""
        return templates.TemplateResponse(self.request, template, context, status_code=status_code)

    def refused(self, exc: ApiError, template: str, **context: Any) -> HTMLResponse:
        """The form again, saying why it was refused, with the refusal's status and headers."""
        response = self.render(template, exc.status, error=exc.message, **context)
        response.headers.update(exc.headers)
        return response


async def get_page(
    request: Request, viewer: ViewerDep, runtime: RuntimeDep, session: SessionDep
) -> Page:
    return Page(request, viewer, runtime, session)


PageDep = Annotated[Page, Depends(get_page)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class ConsoleRoute(APIRoute):
    """Console routes answer pages: a refusal (an ApiError, from a service or a dependency) is
    an error page with the API's message and status, and a signed-out visitor is sent to log
    in and back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = request.url.path
                if request.method != "GET":
                    return redirect("/console/login")
                return redirect(f"/console/login?next={quote(target)}")
            except ApiError as exc:
                return await error_page(request, exc)

        return route


async def error_page(request: Request, exc: ApiError) -> Response:
    runtime = request.app.state.runtime
    async with runtime.sessionmaker() as session:
        viewer = await get_viewer(request, session)
        if request.headers.get(CSRF_HEADER) is not None or request.headers.get("x-fragment"):
            # The page's own scripts show the message in place.
            response: Response = templates.TemplateResponse(
                request,
                "_error.html",
                {"message": exc.message, "code": exc.code},
                status_code=exc.status,
            )
        else:
            response = render(
                request, viewer, "error.html", exc.status, message=exc.message, code=exc.code
            )
    response.headers.update(exc.headers)
    return response
