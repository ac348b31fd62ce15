from __future__ import annotations

from datetime import datetime

from banatie.schemas import CamelModel, RequestModel


class UsageOut(CamelModel):
    plan: str
    plan_name: str
    period: str
    used: int
    limit: int | None
    remaining: int | None
    resets_at: datetime
    rate_limit: str | None
    #: Originals plus derived bytes: what the storage limit is measured against.
    storage_used_bytes: int
    #: The part of it delivery derived (variants, decoded pixels); deleting an image frees it.
    storage_derived_bytes: int
    storage_limit_bytes: int | None


class PlanOut(CamelModel):
    slug: str
    name: str
    monthly_generations: int | None
    rate_limit: str | None
    storage_mb: int | None


class PlanAssignment(RequestModel):
    plan: str


class ProjectPlanOut(CamelModel):
    organization_slug: str
    project_slug: str
    plan: PlanOut
