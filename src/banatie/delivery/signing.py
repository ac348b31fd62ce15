"""Signed image URLs: the one place that builds and checks them (presets, SDKs, the origin).

A signed URL carries ``sig`` (and optionally ``exp``, Unix seconds) next to its transformation
parameters::

    /cdn/acme/site/img/7f3c…?w=400&h=300&mode=crop&exp=1767225600&sig=Jx4…

``sig`` is ``base64url(HMAC-SHA256(key, path + "?" + canonical_query))`` without padding, where

* ``path`` is the URL path as :func:`banatie.delivery.urls.image_path` writes it
  (``/cdn/{org}/{project}/img/{id or @alias}``, percent-encoded);
* ``canonical_query`` keeps only the transformation parameters and ``exp`` (every other
  parameter is ignored by the origin, so it is not signed either), lower-cases their names,
  strips their values, percent-encodes every value with nothing left safe (RFC 3986), sorts the
  pairs by name then value, and joins them as ``name=value`` with ``&``.

The form is syntactic on purpose: an SDK in any language can build it in a few lines without
re-implementing the RIAPI normaliser, and a signature never breaks when the origin's idea of a
"default" changes. A repeated parameter is signed once per occurrence, so appending ``&w=5000``
to a signed URL invalidates it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl, quote

from banatie.delivery.params import TRANSFORM_PARAMS, TransformError
from banatie.delivery.urls import image_path

__all__ = [
    "EXPIRY_PARAM",
    "SIGNATURE_PARAM",
    "SIGNED_PARAMS",
    "canonical_query",
    "sign_query",
    "signature",
    "signed_url",
    "verify",
]

SIGNATURE_PARAM: Final = "sig"
EXPIRY_PARAM: Final = "exp"
#: Parameter names (lower-case) covered by the signature: the RIAPI names, ``preset`` and
#: the expiry (not ``strict``: it only decides whether unknown names are refused).
SIGNED_PARAMS: Final = TRANSFORM_PARAMS | {"preset", EXPIRY_PARAM}

Pairs = Iterable[tuple[str, str]]


def _pairs(query: str | Mapping[str, str] | Pairs) -> list[tuple[str, str]]:
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if isinstance(query, Mapping):
        return [(str(k), str(v)) for k, v in query.items()]
    return [(str(k), str(v)) for k, v in query]


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def _encode(value: str) -> str:
    # RFC 3986 unreserved characters need no escaping: skip quote() for the common case.
    return value if _UNRESERVED.fullmatch(value) else quote(value, safe="")


def canonical_query(query: str | Mapping[str, str] | Pairs) -> str:
    """The signed part of a query: transformation parameters and ``exp``, normalised."""
    items = []
    for name, value in _pairs(query):
        key = name.strip().lower()
        if key in SIGNED_PARAMS:
            items.append((key, value.strip()))
    items.sort()
    return "&".join(f"{name}={_encode(value)}" for name, value in items)


def signature(key: str, path: str, query: str | Mapping[str, str] | Pairs) -> str:
    """``sig`` for ``path`` with ``query`` (which must already contain ``exp`` if any)."""
    message = f"{path}?{canonical_query(query)}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _expiry(expires_at: int | float | datetime | None) -> int | None:
    if expires_at is None:
        return None
    if isinstance(expires_at, datetime):
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        return int(expires_at.timestamp())
    return int(expires_at)


def sign_query(
    key: str, path: str, query: str, *, expires_at: int | float | datetime | None = None
) -> str:
    """``query`` (kept as written) with ``exp`` (when given) and ``sig`` appended."""
    query = query.lstrip("?")
    expiry = _expiry(expires_at)
    if expiry is not None:
        query = f"{query}&{EXPIRY_PARAM}={expiry}" if query else f"{EXPIRY_PARAM}={expiry}"
    sig = signature(key, path, query)
    return f"{query}&{SIGNATURE_PARAM}={sig}" if query else f"{SIGNATURE_PARAM}={sig}"


def signed_url(
    base_url: str,
    org: str,
    project: str,
    ref: str,
    query: str,
    *,
    key: str,
    expires_at: int | float | datetime | None = None,
) -> str:
    """The full signed URL of image ``ref`` (an id or ``@alias``) with transformation ``query``.

    This is the helper SDKs and presets use::

        signed_url("https://cdn.example.com", "acme", "site", image_id, "w=400&h=300&mode=crop",
                   key=SIGNING_KEY, expires_at=time.time() + 3600)
    """
    path = image_path(org, project, ref)
    return f"{base_url.rstrip('/')}{path}?{sign_query(key, path, query, expires_at=expires_at)}"


def verify(
    key: str | None, path: str, pairs: Pairs, *, now: float | None = None
) -> tuple[bool, int | None]:
    """Check ``sig``/``exp`` among the query ``pairs`` of a request for ``path``.

    Returns ``(signed, expires_at)``: ``(False, None)`` when the URL carries no ``sig``. Raises
    :class:`TransformError` naming ``sig`` or ``exp`` for a signature that does not match, a
    malformed or past expiry, or a signed URL on a server without a signing key.
    """
    items = list(pairs)
    sigs = [v for k, v in items if k.strip().lower() == SIGNATURE_PARAM]
    exps = [v for k, v in items if k.strip().lower() == EXPIRY_PARAM]
    if not sigs:
        if exps:
            raise TransformError(EXPIRY_PARAM, "exp is only meaningful in a signed URL (add sig)")
        return False, None
    if key is None:
        raise TransformError(SIGNATURE_PARAM, "sig cannot be checked: this server signs no URLs")
    if len(sigs) > 1:
        raise TransformError(SIGNATURE_PARAM, "sig is given more than once")
    expected = signature(key, path, items)
    if not hmac.compare_digest(sigs[0].strip().encode(), expected.encode()):
        raise TransformError(
            SIGNATURE_PARAM, "sig does not match this URL (wrong key, or the URL was changed)"
        )
    if not exps:
        return True, None
    if len(exps) > 1 or not exps[0].strip().isdigit() or len(exps[0].strip()) > 12:
        raise TransformError(EXPIRY_PARAM, "exp must be a Unix time in seconds")
    expires_at = int(exps[0].strip())
    if expires_at <= (time.time() if now is None else now):
        raise TransformError(EXPIRY_PARAM, f"exp: this signed URL expired at {expires_at}")
    return True, expires_at
