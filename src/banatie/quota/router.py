"""`GET /api/v1/usage`, and plans for master keys: `GET /api/admin/plans`,
`PUT /api/admin/projects/{projectSlug}/plan`."""

from __future__ import annotations

from fastapi import APIRouter

from banatie.accounts import repository as accounts
from banatie.accounts.errors import ProjectNotFound
from banatie.deps import MasterDep, ProjectDep, RuntimeDep, SessionDep
from banatie.quota import service
from banatie.quota.models import Plan
from banatie.quota.schemas import PlanAssignment, PlanOut, ProjectPlanOut, UsageOut
from banatie.quota.usage import report as usage_report
from banatie.schemas import ERROR_RESPONSES, Envelope, ok

router = APIRouter(tags=["usage"], responses=ERROR_RESPONSES)


@router.get("/api/v1/usage")
async def usage(
    runtime: RuntimeDep, session: SessionDep, project: ProjectDep
) -> Envelope[UsageOut]:
    return ok(await usage_report(session, project, runtime.settings))


def _plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        slug=plan.slug,
        name=plan.name,
        monthly_generations=plan.monthly_generations,
        rate_limit=plan.rate_limit,
        storage_mb=plan.storage_mb,
    )


@router.get("/api/admin/plans")
async def list_plans(session: SessionDep, master: MasterDep) -> Envelope[list[PlanOut]]:
    plans = await service.list_plans(session)
    return ok([_plan_out(plan) for plan in plans])


@router.put("/api/admin/projects/{project_slug}/plan")
async def set_project_plan(
    project_slug: str, body: PlanAssignment, session: SessionDep, master: MasterDep
) -> Envelope[ProjectPlanOut]:
    project = await accounts.get_project_by_slug(session, master.organization.id, project_slug)
    if project is None:
        raise ProjectNotFound(f"project {project_slug!r} not found")
    plan = await service.set_plan(session, project, body.plan)
    return ok(
        ProjectPlanOut(
            organization_slug=master.organization.slug,
            project_slug=project.slug,
            plan=_plan_out(plan),
        )
    )
