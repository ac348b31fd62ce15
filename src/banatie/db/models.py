"""Imports every feature's models so that Alembic and `create_all` see the whole schema."""

from banatie.accounts.models import ApiKey, Bootstrap, Organization, Project
from banatie.db.base import Base
from banatie.delivery.models import CdnPurge, ImageVariant
from banatie.flows.models import Flow
from banatie.generation.models import Batch, Generation
from banatie.idempotency.models import IdempotencyKey
from banatie.images.models import Image
from banatie.live.models import LiveEntry, LiveScope, LiveSettings
from banatie.mcp.models import McpContext
from banatie.namespaces.models import Namespace
from banatie.quota.models import Plan, UsageRecord
from banatie.recovery.models import BlobDeletion, Worker
from banatie.users.models import ConsoleSession, Invitation, Membership, PasswordReset, User
from banatie.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookSigningSecret

__all__ = [
    "ApiKey",
    "Base",
    "Batch",
    "BlobDeletion",
    "Bootstrap",
    "CdnPurge",
    "ConsoleSession",
    "Flow",
    "Generation",
    "IdempotencyKey",
    "Image",
    "ImageVariant",
    "Invitation",
    "LiveEntry",
    "LiveScope",
    "LiveSettings",
    "McpContext",
    "Membership",
    "Namespace",
    "Organization",
    "PasswordReset",
    "Plan",
    "Project",
    "UsageRecord",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookSigningSecret",
    "Worker",
]
