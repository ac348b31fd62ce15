"""SQL for users, memberships, console sessions, invitations and password resets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Organization
from banatie.users.models import ConsoleSession, Invitation, Membership, PasswordReset, User


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


async def list_users(session: AsyncSession) -> Sequence[User]:
    result = await session.execute(select(User).order_by(User.created_at))
    return result.scalars().all()


async def count_users(session: AsyncSession) -> int:
    result = await session.execute(select(func.count()).select_from(User))
    return int(result.scalar_one())


async def memberships_of_user(session: AsyncSession, user_id: str) -> Sequence[Membership]:
    result = await session.execute(
        select(Membership)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at)
    )
    return result.unique().scalars().all()


async def memberships_of_organization(
    session: AsyncSession, organization_id: str
) -> Sequence[Membership]:
    result = await session.execute(
        select(Membership)
        .where(Membership.organization_id == organization_id)
        .order_by(Membership.created_at)
    )
    return result.unique().scalars().all()


async def get_membership(
    session: AsyncSession, user_id: str, organization_id: str
) -> Membership | None:
    result = await session.execute(
        select(Membership).where(
            Membership.user_id == user_id, Membership.organization_id == organization_id
        )
    )
    return result.unique().scalar_one_or_none()


async def get_membership_by_id(
    session: AsyncSession, organization_id: str, membership_id: str
) -> Membership | None:
    result = await session.execute(
        select(Membership).where(
            Membership.id == membership_id, Membership.organization_id == organization_id
        )
    )
    return result.unique().scalar_one_or_none()


async def count_owners(session: AsyncSession, organization_id: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id, Membership.role == "owner")
    )
    return int(result.scalar_one())


async def get_session_by_hash(session: AsyncSession, token_hash: str) -> ConsoleSession | None:
    result = await session.execute(
        select(ConsoleSession).where(ConsoleSession.token_hash == token_hash)
    )
    return result.unique().scalar_one_or_none()


async def revoke_sessions_of_user(session: AsyncSession, user_id: str, at: datetime) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def get_reset_by_hash(session: AsyncSession, token_hash: str) -> PasswordReset | None:
    result = await session.execute(
        select(PasswordReset).where(PasswordReset.token_hash == token_hash)
    )
    return result.unique().scalar_one_or_none()


async def get_invitation_by_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    result = await session.execute(select(Invitation).where(Invitation.token_hash == token_hash))
    return result.unique().scalar_one_or_none()


async def open_invitations(
    session: AsyncSession, organization_id: str, now: datetime
) -> Sequence[Invitation]:
    result = await session.execute(
        select(Invitation)
        .where(
            Invitation.organization_id == organization_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc())
    )
    return result.unique().scalars().all()


async def get_invitation(
    session: AsyncSession, organization_id: str, invitation_id: str
) -> Invitation | None:
    result = await session.execute(
        select(Invitation).where(
            Invitation.id == invitation_id, Invitation.organization_id == organization_id
        )
    )
    return result.unique().scalar_one_or_none()
