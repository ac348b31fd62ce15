"""The project a console page works on: the viewer's membership and the project of the URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse

from banatie.accounts.models import Organization, Project
from banatie.console.web import MembershipDep, Page, PageDep
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
class ProjectPage(Page):
    """A page of one project: the viewer's membership and the project of the URL."""

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

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        shared = dict(
            org=self.org, project=self.project, membership=self.membership, base=self.base
        )
        return super().render(
            template, status_code, project_pages=PROJECT_PAGES, **shared, **context
        )


async def project_page(page: Page, membership: Membership, slug: str) -> ProjectPage:
    project = await users.project_of(page.session, membership, slug)
    return ProjectPage(page.request, page.viewer, page.runtime, page.session, membership, project)


async def get_project_page(project: str, page: PageDep, membership: MembershipDep) -> ProjectPage:
    return await project_page(page, membership, project)


ProjectPageDep = Annotated[ProjectPage, Depends(get_project_page)]
