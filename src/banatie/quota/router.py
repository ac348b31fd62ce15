"""`GET /api/v1/usage`, and plans for master keys: `GET /api/admin/plans`,
`PUT /api/admin/projects/{projectSlug}/plan`."""

from __future__ import annotations

from fastapi import APIRouter

from banatie.accounts import service as accounts
from banatie.deps import MasterDep, ProjectDep, RuntimeDep, SessionDep
from banatie.quota import service
from banatie.quota.presenters import present_plan
from banatie.quota.schemas import PlanAssignment, PlanOut, ProjectPlanOut, UsageOut
from banatie.quota.usage import report as usage_report
from banatie.schemas import ERROR_RESPONSES, Envelope, ok

router = APIRouter(tags=["usage"], responses=ERROR_RESPONSES)


@router.get("/api/v1/usage")
async def usage(
    runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[UsageOut]:
    return ok(await usage_report(session, project, runtime.settings))


@router.get("/api/admin/plans")
async def list_plans(session: SessionDep, master: MasterDep) -> Envelope[list[PlanOut]]:
    plans = await service.list_plans(session)
    return ok([present_plan(plan) for plan in plans])


@router.put("/api/admin/projects/{project_slug}/plan")
async def set_project_plan(
    project_slug: str, body: PlanAssignment, session: SessionDep, master: MasterDep
) -> Envelope[ProjectPlanOut]:
    project = await accounts.get_project(session, master.organization, project_slug)
    plan = await service.set_plan(session, project, body.plan)
    return ok(
        ProjectPlanOut(
            organization_slug=master.organization.slug,
            project_slug=project.slug,
            plan=present_plan(plan),
        )
    )
