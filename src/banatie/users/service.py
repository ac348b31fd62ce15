"""Rules for console users: sign-up, roles and memberships, an organization's projects and
project keys. Sign-in is in `sessions`, invitations in `invitations`, password resets in
`resets`. The API's rules stay where they are: the console calls the same services."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts import repository as accounts
from banatie.accounts import service as accounts_service
from banatie.accounts.errors import KeyNotFound, OrganizationNotFound
from banatie.accounts.models import ApiKey, Organization, Project
from banatie.db.base import utcnow
from banatie.errors import Forbidden, ValidationError
from banatie.users import credentials, repository
from banatie.users.errors import (
    EmailTaken,
    LastOwner,
    MemberNotFound,
    ProjectExists,
    UserNotFound,
)
from banatie.users.models import ROLES, Membership, User

log = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
FIRST_PROJECT_SLUG = "main"


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationError(f"{raw.strip()!r} is not an email address")
    return email


def check_password(password: str) -> str:
    if len(password) < credentials.MIN_PASSWORD_CHARS:
        raise ValidationError(
            f"the password must have at least {credentials.MIN_PASSWORD_CHARS} characters"
        )
    if len(password) > credentials.MAX_PASSWORD_CHARS:
        raise ValidationError(
            f"the password must have at most {credentials.MAX_PASSWORD_CHARS} characters"
        )
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}")
    return role


# Console paths an organization or project slug would hide (`/console/{org}/{project}`).
RESERVED_ORGANIZATION_SLUGS = frozenset(
    {"login", "logout", "signup", "reset", "invite", "static", "playground"}
)
RESERVED_PROJECT_SLUGS = frozenset({"members", "projects", "invitations"})


def _slugify(text: str, reserved: frozenset[str] = frozenset()) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "org"
    return f"{slug}-1" if slug in reserved else slug


async def _free_organization_slug(session: AsyncSession, name: str) -> str:
    base = _slugify(name, RESERVED_ORGANIZATION_SLUGS)
    if await accounts.get_organization_by_slug(session, base) is None:
        return base
    while True:  # a short random tail: slugs are public (they are in every CDN URL)
        candidate = f"{base}-{secrets.token_hex(3)}"
        if await accounts.get_organization_by_slug(session, candidate) is None:
            return candidate


async def _new_user(session: AsyncSession, email: str, password: str, name: str | None) -> User:
    email = normalize_email(email)
    check_password(password)
    if await repository.get_user_by_email(session, email) is not None:
        raise EmailTaken(f"there is an account for {email} already: log in")
    user = User(email=email, name=name or None, password_hash=credentials.hash_password(password))
    session.add(user)
    await session.flush()
    return user


def new_membership(user: User, organization: Organization, role: str) -> Membership:
    membership = Membership(
        user_id=user.id, organization_id=organization.id, role=role, created_at=utcnow()
    )
    membership.user, membership.organization = user, organization
    return membership


@dataclass(frozen=True)
class SignedUp:
    user: User
    organization: Organization
    project: Project


async def sign_up(
    session: AsyncSession, *, email: str, password: str, organization_name: str | None
) -> SignedUp:
    """A new account, owner of a new organization with a first project on the Free plan."""
    # Every check comes before the first write: a refused form leaves nothing to roll back.
    name = (organization_name or "").strip() or normalize_email(email).split("@", 1)[0]
    if len(name) > 200:
        raise ValidationError("the organization name must have at most 200 characters")
    user = await _new_user(session, email, password, None)
    organization = Organization(slug=await _free_organization_slug(session, name), name=name)
    session.add(organization)
    await session.flush()
    project = await accounts_service.ensure_project(session, organization, FIRST_PROJECT_SLUG)
    project.name = "My first project"
    session.add(new_membership(user, organization, "owner"))
    await session.flush()
    return SignedUp(user, organization, project)


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    organization_slug: str | None,
    role: str,
) -> SignedUp | Membership:
    """`banatie users create`: into an existing organization (e.g. `default`) with a role, or,
    without one, like a sign-up."""
    check_role(role)
    if organization_slug is None:
        return await sign_up(session, email=email, password=password, organization_name=None)
    organization = await _organization(session, organization_slug)
    user = await _new_user(session, email, password, None)
    membership = new_membership(user, organization, role)
    session.add(membership)
    await session.flush()
    return membership


async def _organization(session: AsyncSession, slug: str) -> Organization:
    organization = await accounts.get_organization_by_slug(session, slug)
    if organization is None:
        raise OrganizationNotFound(f"no organization {slug!r}")
    return organization


async def find_user(session: AsyncSession, email: str) -> User:
    user = await repository.get_user_by_email(session, normalize_email(email))
    if user is None:
        raise UserNotFound(f"no user {email.strip()!r}")
    return user


async def set_role(
    session: AsyncSession, *, email: str, organization_slug: str, role: str
) -> Membership:
    """Give a user a role in an organization (adding them to it when they are not a member)."""
    check_role(role)
    user = await find_user(session, email)
    organization = await _organization(session, organization_slug)
    membership = await repository.get_membership(session, user.id, organization.id)
    if membership is None:
        membership = new_membership(user, organization, role)
        session.add(membership)
    elif membership.role != role:
        if membership.role == "owner":
            await _keep_an_owner(session, organization.id)
        membership.role = role
    await session.flush()
    return membership


async def _keep_an_owner(session: AsyncSession, organization_id: str) -> None:
    if await repository.count_owners(session, organization_id) <= 1:
        raise LastOwner("an organization keeps at least one owner: make another member owner first")


async def memberships(session: AsyncSession, user: User) -> list[Membership]:
    return list(await repository.memberships_of_user(session, user.id))


async def membership_in(session: AsyncSession, user: User, organization_slug: str) -> Membership:
    """The user's membership of an organization. One they are not in is a 404 like one that
    does not exist: the console does not tell strangers which organizations there are."""
    organization = await accounts.get_organization_by_slug(session, organization_slug)
    membership = (
        await repository.get_membership(session, user.id, organization.id)
        if organization is not None
        else None
    )
    if membership is None:
        raise OrganizationNotFound(f"no organization {organization_slug!r}")
    return membership


def require_owner(membership: Membership) -> Membership:
    if membership.role != "owner":
        raise Forbidden("only the organization's owners can do this")
    return membership


async def project_of(session: AsyncSession, membership: Membership, project_slug: str) -> Project:
    return await accounts_service.get_project(session, membership.organization, project_slug)


async def projects_of(session: AsyncSession, membership: Membership) -> list[Project]:
    return list(await accounts.list_projects(session, membership.organization_id))


async def create_project(session: AsyncSession, membership: Membership, name: str) -> Project:
    require_owner(membership)
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("give the project a name of 1-200 characters")
    slug = _slugify(name, RESERVED_PROJECT_SLUGS)
    if await accounts.get_project_by_slug(session, membership.organization_id, slug):
        raise ProjectExists(f"there is a project {slug!r} already")
    project = await accounts_service.ensure_project(session, membership.organization, slug)
    project.name = name
    await session.flush()
    return project


async def remove_member(session: AsyncSession, membership: Membership, member_id: str) -> None:
    require_owner(membership)
    target = await repository.get_in_organization(
        session, Membership, membership.organization_id, member_id
    )
    if target is None:
        raise MemberNotFound("no such member")
    if target.role == "owner":
        await _keep_an_owner(session, membership.organization_id)
    await session.delete(target)
    await session.flush()


async def members(session: AsyncSession, membership: Membership) -> list[Membership]:
    return list(await repository.memberships_of_organization(session, membership.organization_id))


async def project_keys(session: AsyncSession, project: Project) -> list[ApiKey]:
    keys = await accounts_service.list_keys(session, project.organization)
    return [key for key in keys if key.project_id == project.id]


async def create_project_key(
    session: AsyncSession,
    membership: Membership,
    project: Project,
    *,
    name: str | None,
    expires_in_days: int | None,
) -> accounts_service.IssuedKey:
    """A project key made by an owner in the console: the same rules (and default expiry) as
    `POST /api/admin/keys`; its secret is shown once, on the page that answers."""
    require_owner(membership)
    if name is not None and len(name) > 200:
        raise ValidationError("the key's name must have at most 200 characters")
    spec = accounts_service.KeySpec("project", project.slug, name, expires_in_days)
    issued = await accounts_service.issue_key(session, membership.organization, spec)
    await session.flush()
    return issued


async def revoke_project_key(
    session: AsyncSession, membership: Membership, project: Project, key_id: str
) -> ApiKey:
    require_owner(membership)
    record = await accounts.get_key(session, membership.organization_id, key_id)
    if record is None or record.project_id != project.id:
        raise KeyNotFound(f"no key {key_id!r} in this project")
    return await accounts_service.revoke_key(session, membership.organization, key_id)
