"""API key material: `bnt_` + 43 URL-safe characters; only a SHA-256 of it is ever stored."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "bnt_"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    return key[:12]


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and 20 <= len(value) <= 100
