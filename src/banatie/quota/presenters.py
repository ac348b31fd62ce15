"""A plan as the API shows it: the one place that turns a `Plan` into a `PlanOut`."""

from __future__ import annotations

from banatie.quota.models import Plan
from banatie.quota.schemas import PlanOut


def present_plan(plan: Plan) -> PlanOut:
    return PlanOut(
        slug=plan.slug,
        name=plan.name,
        monthly_generations=plan.monthly_generations,
        rate_limit=plan.rate_limit,
        storage_mb=plan.storage_mb,
    )
