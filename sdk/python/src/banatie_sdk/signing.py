"""Image and live URLs, built without a request, signed the way the server checks them.

``sig = base64url(HMAC-SHA256(key, path + "?" + canonical))`` without padding, where
``canonical`` keeps the signed parameters (the transformation parameters and ``exp``; for live
URLs also the generation parameters), lower-cases their names, strips their values,
percent-encodes every value (RFC 3986, nothing safe), sorts the pairs and joins them with ``&``.
This mirrors ``banatie.delivery.signing`` and ``banatie.live.signing`` on the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final, TypedDict
from urllib.parse import quote, urlencode

__all__ = [
    "LIVE_PARAMS",
    "TRANSFORM_PARAMS",
    "Transform",
    "canonical_query",
    "image_path",
    "live_path",
    "sign_pairs",
    "signature",
    "transform_pairs",
]

#: Transformation parameters of image URLs (Imageflow RIAPI names), lower case, and ``exp``.
TRANSFORM_PARAMS: Final = frozenset(
    {
        "w",
        "width",
        "h",
        "height",
        "mode",
        "scale",
        "anchor",
        "c.gravity",
        "dpr",
        "format",
        "fmt",
        "quality",
        "bgcolor",
        "trim.threshold",
        "srotate",
        "sflip",
        "f.sharpen",
        "blur",
        "s.saturation",
        "s.brightness",
        "s.contrast",
        "rotate",
        "flip",
        "watermark",
        "watermark.position",
        "watermark.scale",
        "watermark.opacity",
        "preset",
        "exp",
    }
)
#: Generation parameters of live URLs, lower case (every spelling the server reads).
LIVE_PARAMS: Final = frozenset(
    {
        "prompt",
        "aspectratio",
        "aspect_ratio",
        "ar",
        "imagesize",
        "image_size",
        "template",
        "autoenhance",
        "auto_enhance",
        "namespace",
    }
)

Pairs = Iterable[tuple[str, str]]


class Transform(TypedDict, total=False):
    """Transformation parameters of an image or live URL (see the server's README)."""

    w: int
    h: int
    mode: str  # max, pad, crop, stretch
    scale: str  # down, both, canvas
    anchor: str  # topleft … bottomright
    gravity: tuple[float, float]  # c.gravity, x and y in percent
    dpr: float
    format: str  # auto, avif, webp, jpeg, png
    quality: int
    bgcolor: str


def transform_pairs(transform: Transform) -> list[tuple[str, str]]:
    """``Transform`` as query pairs in the server's parameter names."""
    pairs: list[tuple[str, str]] = []
    for name, value in transform.items():
        if value is None:
            continue
        if name == "gravity":
            point: tuple[float, float] = value  # type: ignore[assignment]
            pairs.append(("c.gravity", f"{_number(point[0])},{_number(point[1])}"))
        else:
            pairs.append((name, _number(value) if isinstance(value, float) else str(value)))
    return pairs


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def image_path(org: str, project: str, ref: str) -> str:
    """``/cdn/{org}/{project}/img/{id or @alias}``, percent-encoded as the server writes it."""
    return f"/cdn/{quote(org)}/{quote(project)}/img/{quote(ref, safe='@')}"


def live_path(org: str, project: str, scope: str) -> str:
    """``/cdn/{org}/{project}/live/{scope}`` (scopes are lower case)."""
    return (
        f"/cdn/{quote(org, safe='')}/{quote(project, safe='')}/live/{quote(scope.lower(), safe='')}"
    )


def canonical_query(pairs: Pairs, signed: frozenset[str]) -> str:
    items = sorted(
        (name.strip().lower(), value.strip())
        for name, value in pairs
        if name.strip().lower() in signed
    )
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in items)


def signature(key: str, path: str, pairs: Pairs, signed: frozenset[str]) -> str:
    message = f"{path}?{canonical_query(pairs, signed)}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def expiry(
    expires_at: int | float | datetime | None, expires_in: float | None = None
) -> int | None:
    """Unix seconds from an absolute time or a delay (``expires_in`` seconds from now)."""
    if expires_in is not None:
        return int(time.time() + expires_in)
    if expires_at is None:
        return None
    if isinstance(expires_at, datetime):
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        return int(expires_at.timestamp())
    return int(expires_at)


def sign_pairs(
    key: str,
    path: str,
    pairs: list[tuple[str, str]],
    signed: frozenset[str],
    *,
    expires_at: int | None = None,
) -> list[tuple[str, str]]:
    """``pairs`` with ``exp`` (when given) and ``sig`` appended."""
    items = list(pairs)
    if expires_at is not None:
        items.append(("exp", str(expires_at)))
    items.append(("sig", signature(key, path, items, signed)))
    return items


def encode(pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> str:
    return urlencode(
        list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs), quote_via=quote
    )
