"""Keys as the API and the CLI show them: the one place that turns an `ApiKey` into a `KeyOut`."""

from __future__ import annotations

from banatie.accounts.models import ApiKey
from banatie.accounts.schemas import IssuedKeyOut, KeyOut
from banatie.accounts.service import IssuedKey
from banatie.schemas import from_row


def present_key(key: ApiKey) -> KeyOut:
    return from_row(
        KeyOut,
        key,
        organization_slug=key.organization.slug,
        project_slug=key.project.slug if key.project else None,
    )


def present_issued_key(issued: IssuedKey) -> IssuedKeyOut:
    """A key just made, with its secret (shown this once)."""
    return IssuedKeyOut(**present_key(issued.record).model_dump(), key=issued.secret)
