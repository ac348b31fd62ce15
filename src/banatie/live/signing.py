"""Signed live URLs: the same construction as signed image URLs (`banatie.delivery.signing`),
with the project's own secret, covering the generation parameters too.

``sig = base64url(HMAC-SHA256(secret, path + "?" + canonical_query))`` without padding, where
``path`` is ``/cdn/{org}/{project}/live/{scope}`` (percent-encoded, scope in lower case) and
``canonical_query`` keeps the live parameters (``prompt``, ``aspectRatio``, ``template``,
``autoEnhance``, ``namespace`` and their spellings), the transformation parameters and ``exp``;
names lower-cased, values stripped and percent-encoded with nothing safe, pairs sorted, joined
with ``&``. Tracking parameters are not signed (a CDN or a mail client may add them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import quote, urlencode

from banatie.delivery.signing import EXPIRY_PARAM, SIGNATURE_PARAM, SIGNED_PARAMS
from banatie.errors import Forbidden
from banatie.live.cache_key import QUERY_NAMES

# Every query name that changes the image (lower case): all of them are signed.
LIVE_PARAMS: Final = frozenset(QUERY_NAMES)
SIGNED: Final = LIVE_PARAMS | SIGNED_PARAMS

Pairs = Iterable[tuple[str, str]]


class InvalidSignature(Forbidden, code="INVALID_SIGNATURE"): ...


def live_path(org: str, project: str, scope: str) -> str:
    return f"/cdn/{quote(org, safe='')}/{quote(project, safe='')}/live/{quote(scope, safe='')}"


def canonical_query(pairs: Pairs) -> str:
    items = sorted(
        (name.strip().lower(), value.strip())
        for name, value in pairs
        if name.strip().lower() in SIGNED
    )
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in items)


def signature(secret: str, path: str, pairs: Pairs) -> str:
    message = f"{path}?{canonical_query(pairs)}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(
    secret: str, path: str, params: Mapping[str, str], *, expires_at: int | None = None
) -> str:
    """The query string of a signed live URL (``params`` as given, then ``exp``, then ``sig``)."""
    items = list(params.items())
    if expires_at is not None:
        items.append((EXPIRY_PARAM, str(int(expires_at))))
    items.append((SIGNATURE_PARAM, signature(secret, path, items)))
    return urlencode(items, quote_via=quote)


def verify(secret: str | None, path: str, pairs: Pairs, *, now: float | None = None) -> bool:
    """True for a valid signature, False when the URL has none; 403 for a bad or expired one."""
    items = list(pairs)
    sigs = [v for k, v in items if k.strip().lower() == SIGNATURE_PARAM]
    if not sigs:
        return False
    if secret is None:
        raise InvalidSignature("this project has no live signing secret; remove sig or set one")
    expected = signature(secret, path, items)
    if len(sigs) > 1 or not hmac.compare_digest(sigs[0].strip().encode(), expected.encode()):
        raise InvalidSignature("sig does not match this live URL (wrong secret, or URL changed)")
    exps = [v.strip() for k, v in items if k.strip().lower() == EXPIRY_PARAM]
    if exps:
        if len(exps) > 1 or not exps[0].isdigit() or len(exps[0]) > 12:
            raise InvalidSignature("exp must be a Unix time in seconds")
        if int(exps[0]) <= (time.time() if now is None else now):
            raise InvalidSignature(f"this signed live URL expired at {exps[0]}")
    return True
