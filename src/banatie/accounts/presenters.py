"""Keys as the API and the CLI show them: the one place that turns an `ApiKey` into a `KeyOut`."""

from __future__ import annotations

from banatie.accounts.models import ApiKey
from banatie.accounts.schemas import IssuedKeyOut, KeyOut
from banatie.accounts.service import IssuedKey


def present_key(key: ApiKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        type=key.type,
        name=key.name,
        key_prefix=key.key_prefix,
        organization_slug=key.organization.slug,
        project_slug=key.project.slug if key.project else None,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def present_issued_key(issued: IssuedKey) -> IssuedKeyOut:
    """A key just made, with its secret (shown this once)."""
    return IssuedKeyOut(**present_key(issued.record).model_dump(), key=issued.secret)
