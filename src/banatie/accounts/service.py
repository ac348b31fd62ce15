"""Rules for organizations, projects and keys: who may create what, expiry, revocation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts import keys as key_material
from banatie.accounts import repository
from banatie.accounts.auth import Principal
from banatie.accounts.errors import BootstrapDone, KeyNotFound, ProjectNotFound
from banatie.accounts.models import ApiKey, Organization, Project
from banatie.db.base import utcnow
from banatie.errors import Forbidden, Unauthorized, ValidationError

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
DEFAULT_PROJECT_KEY_DAYS = 90


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: the only moment its secret exists outside the caller's hands."""

    record: ApiKey
    secret: str


@dataclass(frozen=True)
class KeySpec:
    """What a new key is: `master`, or `project` of `project_slug` (made if missing); its name;
    its lifetime in days (None: a project key's default, no expiry for a master key)."""

    key_type: str
    project_slug: str | None = None
    name: str | None = None
    expires_in_days: int | None = None


def check_slug(value: str, field: str) -> str:
    if not SLUG_RE.match(value):
        raise ValidationError(
            f"{field} {value!r} is not a valid slug: use 1-64 lowercase letters, digits "
            "and dashes, starting and ending with a letter or digit"
        )
    return value


async def ensure_organization(session: AsyncSession, slug: str) -> Organization:
    check_slug(slug, "organizationSlug")
    organization = await repository.get_organization_by_slug(session, slug)
    if organization is None:
        organization = Organization(slug=slug, name=slug)
        session.add(organization)
        await session.flush()
    return organization


async def ensure_project(session: AsyncSession, organization: Organization, slug: str) -> Project:
    check_slug(slug, "projectSlug")
    project = await repository.get_project_by_slug(session, organization.id, slug)
    if project is None:
        project = Project(organization_id=organization.id, slug=slug, name=slug)
        project.organization = organization
        session.add(project)
        await session.flush()
    return project


async def get_project(session: AsyncSession, organization: Organization, slug: str) -> Project:
    """The organization's project with this slug (404 PROJECT_NOT_FOUND otherwise)."""
    project = await repository.get_project_by_slug(session, organization.id, slug)
    if project is None:
        raise ProjectNotFound(f"project {slug!r} not found")
    return project


async def list_keys(session: AsyncSession, organization: Organization) -> list[ApiKey]:
    return list(await repository.list_keys(session, organization.id))


async def issue_key(
    session: AsyncSession,
    organization: Organization,
    spec: KeySpec,
    *,
    created_by: str | None = None,
) -> IssuedKey:
    """A key of `organization` as `spec` says."""
    key_type, project_slug, expires_in_days = spec.key_type, spec.project_slug, spec.expires_in_days
    if key_type not in ("master", "project"):
        raise ValidationError("type must be 'master' or 'project'")
    if key_type == "project" and not project_slug:
        raise ValidationError("a project key needs projectSlug")
    if expires_in_days is None and key_type == "project":
        expires_in_days = DEFAULT_PROJECT_KEY_DAYS
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError("expiresInDays must be between 1 and 3650")
    project = await ensure_project(session, organization, project_slug) if project_slug else None
    secret = key_material.generate_key()
    now = utcnow()
    record = ApiKey(
        organization_id=organization.id,
        project_id=project.id if key_type == "project" and project else None,
        type=key_type,
        name=spec.name,
        key_hash=key_material.hash_key(secret),
        key_prefix=key_material.display_prefix(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        created_by_key_id=created_by,
    )
    record.organization = organization
    record.project = project if key_type == "project" else None
    session.add(record)
    if key_type == "master":
        # However it is made, a master key ends the installation's bootstrap.
        await repository.claim_bootstrap(session)
    await session.flush()
    return IssuedKey(record=record, secret=secret)


async def bootstrap_master_key(
    session: AsyncSession,
    *,
    caller: Principal | None,
    organization_slug: str | None,
    default_slug: str,
    name: str | None,
) -> IssuedKey:
    """The installation's first master key, once (the marker row decides concurrent calls).

    On an installation without any organization, anyone may bootstrap (that is what a fresh
    install is for). Once an organization exists, its keys' holders own it: the caller proves
    it with one of its keys (the project key `banatie serve` printed on its first run), and
    gets a master key for that organization only."""
    if not await repository.claim_bootstrap(session):
        raise BootstrapDone(
            "this installation is bootstrapped already; a master key administers further keys "
            "(POST /api/admin/keys), and `banatie keys create --type master --org SLUG` on the "
            "server replaces a lost one"
        )
    # A refusal below rolls the unit of work back, which gives the marker back.
    organization = await _bootstrap_organization(session, caller, organization_slug, default_slug)
    return await issue_key(
        session, organization, KeySpec("master", name=name or "initial master key")
    )


async def _bootstrap_organization(
    session: AsyncSession, caller: Principal | None, slug: str | None, default_slug: str
) -> Organization:
    if caller is not None:
        owned = caller.organization
        if slug is not None and slug != owned.slug:
            raise Forbidden(
                f"this key belongs to organization {owned.slug!r}; bootstrap gives a master "
                f"key for that organization only"
            )
        return owned
    if await repository.count_organizations(session) > 0:
        raise Unauthorized(
            "this installation already has an organization: send one of its keys as "
            "X-API-Key (the first run of `banatie serve` printed one) to get its master key, "
            "or run `banatie keys create --type master --org SLUG` on the server"
        )
    return await ensure_organization(session, slug or default_slug)


async def create_key_as_master(
    session: AsyncSession, master: ApiKey, organization_slug: str | None, spec: KeySpec
) -> IssuedKey:
    organization = master.organization
    if organization_slug is not None and organization_slug != organization.slug:
        raise Forbidden(
            f"this master key administers organization {organization.slug!r} only; "
            f"use `banatie keys create` on the server to create {organization_slug!r}"
        )
    return await issue_key(session, organization, spec, created_by=master.id)


async def revoke_key(
    session: AsyncSession, organization: Organization, reference: str, *, by_prefix: bool = False
) -> ApiKey:
    """Revoke one of the organization's keys (again: a no-op), named by its id (the API), or
    with `by_prefix` by what `banatie keys list` shows of it (see `find_key`; the CLI)."""
    if by_prefix:
        record = await find_key(session, organization, reference)
    else:
        found = await repository.get_key(session, organization.id, reference)
        if found is None:
            raise KeyNotFound(f"no key {reference!r} in this organization")
        record = found
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        await session.flush()
    return record


MIN_KEY_REFERENCE = 4


async def find_key(session: AsyncSession, organization: Organization, reference: str) -> ApiKey:
    """The one key of an organization that `reference` names: its id or a prefix of it (as
    `banatie keys list` shows it), or its `bnt_…` prefix."""
    reference = reference.strip()
    if len(reference) < MIN_KEY_REFERENCE:
        raise ValidationError(f"give at least {MIN_KEY_REFERENCE} characters of the key id")
    matches = await repository.find_keys(session, organization.id, reference)
    if not matches:
        raise KeyNotFound(f"no key {reference!r} in organization {organization.slug!r}")
    if len(matches) > 1:
        ids = ", ".join(sorted(key.id for key in matches))
        raise ValidationError(
            f"{reference!r} matches {len(matches)} keys ({ids}): give more of the id"
        )
    return matches[0]
