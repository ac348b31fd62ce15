"""Console sign-in: a password log-in (rate limited) starts a session kept by a cookie; its
token is stored hashed, with the CSRF token its forms carry."""

from __future__ import annotations

import hmac
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.db.base import utcnow
from banatie.quota.rate_limit import RateLimiter
from banatie.settings import Settings
from banatie.users import credentials, repository
from banatie.users.errors import LoginFailed
from banatie.users.models import ConsoleSession, User

# `last_seen_at` is written at most this often per session, not on every page.
TOUCH_INTERVAL = timedelta(minutes=5)


async def log_in(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    *,
    email: str,
    password: str,
    ip: str,
) -> User:
    """Check a password; every attempt counts against the caller's IP and the account named."""
    await limiter.hit(settings.console_login_rate_per_ip, "console login per IP", ip)
    address = email.strip().lower()
    await limiter.hit(settings.console_login_rate_per_account, "console login per account", address)
    user = await repository.get_user_by_email(session, address)
    if not credentials.verify_password(user.password_hash if user else None, password):
        raise LoginFailed("wrong email or password")
    assert user is not None
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
        await session.flush()
    return user


async def start_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    user_agent: str | None,
    ip: str | None,
) -> tuple[str, ConsoleSession]:
    token = credentials.new_token()
    now = utcnow()
    record = ConsoleSession(
        user_id=user.id,
        token_hash=credentials.token_hash(token),
        csrf_token=credentials.new_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.console_session_days),
        user_agent=(user_agent or "")[:300] or None,
        ip=ip,
    )
    record.user = user
    session.add(record)
    await session.flush()
    return token, record


async def current_session(session: AsyncSession, token: str | None) -> ConsoleSession | None:
    if not token or len(token) > 100:
        return None
    record = await repository.get_session_by_hash(session, credentials.token_hash(token))
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    if now - record.last_seen_at > TOUCH_INTERVAL:
        record.last_seen_at = now
        await session.flush()
    return record


async def end_session(session: AsyncSession, record: ConsoleSession) -> None:
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        await session.flush()


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(
        str(expected).encode(), str(given).encode()
    )
