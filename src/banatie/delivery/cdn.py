"""The CDN port: tell the CDN in front of `/cdn` to forget URLs (and, where it can, cache tags).

* :class:`NoopCdnPurger` — the embedded default: the origin is the CDN, there is nothing to purge.
* :class:`CloudflareCdnPurger` — Cloudflare's purge API, ``POST {base}/zones/{zone}/purge_cache``
  with ``{"files": [...]}`` (at most 30 URLs per call on Free/Pro/Business zones) and, when
  enabled, ``{"tags": [...]}`` (Cache-Tag purges). Authentication is an API token with the
  *Cache Purge* permission, sent as ``Authorization: Bearer``.

A purger raises :class:`PurgeError` when the CDN did not confirm; the caller (the durable outbox
in :mod:`banatie.delivery.outbox`) logs it and retries later.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import httpx

__all__ = [
    "CdnPurger",
    "CloudflareCdnPurger",
    "NoopCdnPurger",
    "PurgeError",
    "PurgeRequest",
]

#: Cloudflare accepts at most 30 URLs (Free/Pro/Business) and 30 tags per purge call.
CLOUDFLARE_BATCH: Final = 30


class PurgeError(Exception):
    """The CDN did not confirm a purge. ``retry_after`` is the CDN's hint, in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class PurgeRequest:
    urls: Sequence[str] = field(default_factory=tuple)
    tags: Sequence[str] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.urls or self.tags)


class CdnPurger(Protocol):
    name: str

    async def purge(self, request: PurgeRequest) -> None:
        """Purge everything in ``request``; raise :class:`PurgeError` unless the CDN confirmed."""

    async def close(self) -> None: ...


class NoopCdnPurger:
    """No CDN in front: the origin's own responses are always current."""

    name = "none"

    async def purge(self, request: PurgeRequest) -> None:
        return None

    async def close(self) -> None:
        return None


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


class CloudflareCdnPurger:
    name = "cloudflare"

    def __init__(
        self,
        zone_id: str,
        api_token: str,
        *,
        base_url: str = "https://api.cloudflare.com/client/v4",
        timeout: float = 15.0,
        batch_size: int = CLOUDFLARE_BATCH,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not zone_id or not api_token:
            raise ValueError("Cloudflare purging needs a zone id and an API token")
        self.zone_id = zone_id
        self.endpoint = f"{base_url.rstrip('/')}/zones/{zone_id}/purge_cache"
        self.batch_size = max(1, batch_size)
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_token}"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"CloudflareCdnPurger(zone_id={self.zone_id!r})"

    async def purge(self, request: PurgeRequest) -> None:
        for chunk in _chunks(list(request.urls), self.batch_size):
            await self._call({"files": list(chunk)})
        for chunk in _chunks(list(request.tags), self.batch_size):
            await self._call({"tags": list(chunk)})

    async def _call(self, body: dict[str, Any]) -> None:
        what = "files" if "files" in body else "tags"
        try:
            response = await self._client.post(self.endpoint, json=body)
        except httpx.HTTPError as exc:
            raise PurgeError(
                f"Cloudflare purge ({what}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        if response.status_code == 200 and isinstance(payload, dict) and payload.get("success"):
            return
        detail = ""
        if isinstance(payload, dict):
            errors = payload.get("errors") or []
            detail = "; ".join(
                f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict)
            )
        raise PurgeError(
            f"Cloudflare purge ({what}) refused: HTTP {response.status_code}"
            + (f" ({detail})" if detail else ""),
            retry_after=_retry_after(response),
        )

    async def close(self) -> None:
        await self._client.aclose()
