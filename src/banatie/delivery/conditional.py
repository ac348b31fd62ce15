"""Conditional requests (RFC 9110 §13): does the client's copy still match?"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in candidates


def not_modified(
    headers: dict[str, str], etag: str, last_modified: datetime, *, use_date: bool
) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present; else If-Modified-Since.
    `headers`: the request's, with lower-case names."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    since = headers.get("if-modified-since")
    if not use_date or not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if when.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= when
