"""Password hashes (argon2id) and the random tokens of sessions, invitations and resets."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this only bounds the work one form costs

_hasher = PasswordHasher()  # argon2-cffi's defaults follow RFC 9106's recommendations


@cache
def _dummy_hash() -> str:
    """Verified when an address has no account, so that a wrong address costs as long as a
    wrong password and the timing does not tell which addresses have accounts. Made on first
    use: a hash takes argon2's 64 MB and tens of milliseconds, which every worker process
    would otherwise spend at start."""
    return _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        matches = _hasher.verify(password_hash or _dummy_hash(), password)
        return matches and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
