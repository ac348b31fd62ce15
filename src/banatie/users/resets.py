"""Password resets: a one-time token (mailed, printed or logged) sets a new password and signs
out every session of the user."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.errors import NotFound, ValidationError
from banatie.users import credentials, repository
from banatie.users.errors import InvalidToken
from banatie.users.models import PasswordReset, User
from banatie.users.service import check_password, find_user

RESET_TTL = timedelta(hours=1)


async def reset_link_token(session: AsyncSession, email: str) -> tuple[User, str]:
    """A one-time token to set a new password (the link is printed or logged: no mail)."""
    user = await find_user(session, email)
    token = credentials.new_token()
    now = utcnow()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=credentials.token_hash(token),
            created_at=now,
            expires_at=now + RESET_TTL,
        )
    )
    await session.flush()
    return user, token


async def request_reset(session: AsyncSession, email: str) -> str | None:
    """The reset form: a token for a known address, None otherwise (the page says the same
    either way, so it does not tell who has an account)."""
    try:
        _, token = await reset_link_token(session, email)
    except (NotFound, ValidationError):
        return None
    return token


async def _open_reset(session: AsyncSession, token: str) -> PasswordReset:
    record = await repository.get_reset_by_hash(session, credentials.token_hash(token))
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        raise InvalidToken("this reset link is used, expired or wrong: ask for a new one")
    return record


async def check_reset(session: AsyncSession, token: str) -> User:
    return (await _open_reset(session, token)).user


async def reset_password(session: AsyncSession, token: str, password: str) -> User:
    """Set the new password, use the token up and sign out every session of the user."""
    check_password(password)
    record = await _open_reset(session, token)
    now = utcnow()
    record.used_at = now
    record.user.password_hash = credentials.hash_password(password)
    record.user.updated_at = now
    await repository.revoke_sessions_of_user(session, record.user_id, now)
    await session.flush()
    return record.user
