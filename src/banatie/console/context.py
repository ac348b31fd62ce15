"""The project a console page works on: the viewer's membership and the project of the URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from banatie.accounts.models import Organization, Project
from banatie.console.web import MembershipDep, Viewer, ViewerDep, render
from banatie.deps import SessionDep
from banatie.users import service as users
from banatie.users.models import Membership

# The tabs of a project, in order: (path, label).
PROJECT_PAGES = (
    ("playground", "Playground"),
    ("gallery", "Gallery"),
    ("flows", "Flows"),
    ("namespaces", "Namespaces"),
    ("live", "Live scopes"),
    ("keys", "Keys"),
    ("usage", "Usage"),
)


@dataclass
class ProjectPage:
    viewer: Viewer
    membership: Membership
    project: Project

    @property
    def org(self) -> Organization:
        return self.membership.organization

    @property
    def is_owner(self) -> bool:
        return self.membership.role == "owner"

    @property
    def base(self) -> str:
        return f"/console/{self.org.slug}/{self.project.slug}"

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        return render(
            request,
            self.viewer,
            template,
            status_code,
            org=self.org,
            project=self.project,
            membership=self.membership,
            project_pages=PROJECT_PAGES,
            base=self.base,
            **context,
        )


async def get_project_page(
    project: str, viewer: ViewerDep, membership: MembershipDep, session: SessionDep
) -> ProjectPage:
    return ProjectPage(viewer, membership, await users.project_of(session, membership, project))


ProjectPageDep = Annotated[ProjectPage, Depends(get_project_page)]
