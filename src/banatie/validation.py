"""Rules for what a request may carry into storage, whatever the surface.

* Text must be storable: no NUL (PostgreSQL refuses it) and valid Unicode (a lone surrogate
  such as ``"\\ud800"`` parses as JSON but cannot be encoded). Numbers must be finite (JSON
  has no NaN; PostgreSQL's JSON refuses it). :func:`unstorable` finds the first offender in
  a parsed JSON value; every JSON body goes through it (:class:`banatie.schemas.RequestModel`),
  URLs through :class:`banatie.edge.UrlGuard`.
* ``meta`` is bounded (``BANATIE_MAX_META_BYTES``, as compact JSON): :func:`check_meta`, called
  by every service that stores one.
"""

from __future__ import annotations

import json
import math
from typing import Any

from banatie.errors import ValidationError


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (it holds a lone surrogate such as \\ud800)"
    return None


def unstorable(value: Any, where: str = "") -> tuple[str, str] | None:
    """(where, problem) of the first string or number in `value` that cannot be stored."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (where or "value", problem) if problem else None
    if isinstance(value, float):
        return None if math.isfinite(value) else (where or "value", "must be a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            # A bad name is reported without itself (its text may be unprintable).
            found = unstorable(key, f"a name in {where or 'the body'}")
            found = found or unstorable(item, f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unstorable(item, f"{where}[{index}]")
            if found:
                return found
    return None


def check_meta(meta: dict[str, Any] | None, limit: int, field: str = "meta") -> dict[str, Any]:
    """`meta` as it will be stored, or a 400 naming the field."""
    if not meta:
        return {}
    found = unstorable(meta, field)
    if found:
        raise ValidationError(f"{found[0]} {found[1]}", details={"field": field})
    size = len(json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode())
    if size > limit:
        raise ValidationError(
            f"{field} is {size} bytes as JSON; the limit is {limit} (BANATIE_MAX_META_BYTES)",
            details={"field": field, "limit": limit},
        )
    return meta
