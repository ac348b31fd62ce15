"""SQL for users, memberships, console sessions, invitations and password resets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Organization
from banatie.users.models import ConsoleSession, Invitation, Membership, PasswordReset, User

T = TypeVar("T")
Owned = TypeVar("Owned", Membership, Invitation)


async def _one(session: AsyncSession, statement: Select[T]) -> T | None:
    return (await session.execute(statement)).unique().scalar_one_or_none()


async def _all(session: AsyncSession, statement: Select[T]) -> Sequence[T]:
    return (await session.execute(statement)).unique().scalars().all()


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
    return await _all(
        session,
        select(Membership)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.created_at),
    )


async def memberships_of_organization(
    session: AsyncSession, organization_id: str
) -> Sequence[Membership]:
    return await _all(
        session,
        select(Membership)
        .where(Membership.organization_id == organization_id)
        .order_by(Membership.created_at),
    )


async def get_membership(
    session: AsyncSession, user_id: str, organization_id: str
) -> Membership | None:
    return await _one(
        session,
        select(Membership).where(
            Membership.user_id == user_id, Membership.organization_id == organization_id
        ),
    )


async def get_in_organization(
    session: AsyncSession, model: type[Owned], organization_id: str, row_id: str
) -> Owned | None:
    """A membership or an invitation of the organization, by its id."""
    return await _one(
        session, select(model).where(model.id == row_id, model.organization_id == organization_id)
    )


async def count_owners(session: AsyncSession, organization_id: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == organization_id, Membership.role == "owner")
    )
    return int(result.scalar_one())


async def get_session_by_hash(session: AsyncSession, token_hash: str) -> ConsoleSession | None:
    return await _one(
        session, select(ConsoleSession).where(ConsoleSession.token_hash == token_hash)
    )


async def revoke_sessions_of_user(session: AsyncSession, user_id: str, at: datetime) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def get_reset_by_hash(session: AsyncSession, token_hash: str) -> PasswordReset | None:
    return await _one(session, select(PasswordReset).where(PasswordReset.token_hash == token_hash))


async def get_invitation_by_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    return await _one(session, select(Invitation).where(Invitation.token_hash == token_hash))


async def open_invitations(
    session: AsyncSession, organization_id: str, now: datetime
) -> Sequence[Invitation]:
    return await _all(
        session,
        select(Invitation)
        .where(
            Invitation.organization_id == organization_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .order_by(Invitation.created_at.desc()),
    )
