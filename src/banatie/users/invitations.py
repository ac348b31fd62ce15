"""Invitations to an organization: an owner makes a one-time link (optionally for one email
address) with a role; whoever opens it signed in joins with that role."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.errors import Forbidden
from banatie.users import credentials, repository
from banatie.users.errors import InvalidToken, InvitationNotFound
from banatie.users.models import Invitation, Membership, User
from banatie.users.service import check_role, new_membership, normalize_email, require_owner

INVITATION_TTL = timedelta(days=7)


async def invite(
    session: AsyncSession, membership: Membership, *, role: str, email: str | None
) -> tuple[Invitation, str]:
    require_owner(membership)
    check_role(role)
    token = credentials.new_token()
    now = utcnow()
    invitation = Invitation(
        organization_id=membership.organization_id,
        token_hash=credentials.token_hash(token),
        role=role,
        email=normalize_email(email) if email and email.strip() else None,
        created_by_user_id=membership.user_id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    invitation.organization = membership.organization
    session.add(invitation)
    await session.flush()
    return invitation, token


async def open_invitation(session: AsyncSession, token: str) -> Invitation:
    invitation = await repository.get_invitation_by_hash(session, credentials.token_hash(token))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        raise InvalidToken("this invitation is used, expired or withdrawn: ask for a new link")
    return invitation


async def accept_invitation(session: AsyncSession, token: str, user: User) -> Membership:
    invitation = await open_invitation(session, token)
    if invitation.email and invitation.email != user.email:
        raise Forbidden(f"this invitation is for {invitation.email}")
    membership = await repository.get_membership(session, user.id, invitation.organization_id)
    if membership is None:
        membership = new_membership(user, invitation.organization, invitation.role)
        session.add(membership)
    invitation.accepted_at = utcnow()
    invitation.accepted_by_user_id = user.id
    await session.flush()
    return membership


async def withdraw_invitation(
    session: AsyncSession, membership: Membership, invitation_id: str
) -> None:
    require_owner(membership)
    invitation = await repository.get_in_organization(
        session, Invitation, membership.organization_id, invitation_id
    )
    if invitation is None:
        raise InvitationNotFound("no such invitation")
    invitation.revoked_at = utcnow()
    await session.flush()


async def pending(session: AsyncSession, membership: Membership) -> list[Invitation]:
    return list(await repository.open_invitations(session, membership.organization_id, utcnow()))
