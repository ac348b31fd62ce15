"""A plan as the API shows it: the one place that turns a `Plan` into a `PlanOut`."""

from __future__ import annotations

from banatie.quota.models import Plan
from banatie.quota.schemas import PlanOut
from banatie.schemas import from_row


def present_plan(plan: Plan) -> PlanOut:
    return from_row(PlanOut, plan)
