"""Imports every feature's models so that Alembic and `create_all` see the whole schema."""

from banatie.accounts.models import ApiKey, Organization, Project
from banatie.db.base import Base
from banatie.flows.models import Flow
from banatie.generation.models import Generation
from banatie.images.models import Image
from banatie.quota.models import Plan, UsageRecord

__all__ = [
    "ApiKey",
    "Base",
    "Flow",
    "Generation",
    "Image",
    "Organization",
    "Plan",
    "Project",
    "UsageRecord",
]
