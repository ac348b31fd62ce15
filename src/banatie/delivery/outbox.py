"""CDN purges through a durable outbox: never lost, never blocking a request.

A change that makes cached URLs wrong (an image deleted, an alias moved or removed, a focal
point changed) calls :meth:`banatie.delivery.state.Delivery.urls_changed`, which calls
:func:`enqueue` on the request's session, so the purge row is committed in the same transaction
as the change itself: if the change is committed, so is its purge.

:class:`PurgeOutbox` runs in the app's lifespan (every process, every replica). It claims due
rows (an optimistic ``version`` bump, so two workers never send one row at the same time), turns
each into URLs and cache tags with the current settings, and asks the :class:`CdnPurger`.
Success deletes the row. Failure is logged with the CDN's answer and retried with exponential
backoff (``BANATIE_CDN_PURGE_RETRY_BASE_SECONDS`` doubling up to ``…_RETRY_MAX_SECONDS``, or the
CDN's ``Retry-After`` when longer); after ``BANATIE_CDN_PURGE_MAX_ATTEMPTS`` the row is kept with
status ``failed`` and an error is logged — nothing is dropped silently.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from banatie.accounts.models import Organization, Project
from banatie.concurrency.poller import Poller
from banatie.db import transactions
from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.delivery import presets
from banatie.delivery.cdn import CdnPurger, PurgeError, PurgeRequest
from banatie.delivery.models import DECODED_FORMAT, CdnPurge, ImageVariant
from banatie.images.models import Image
from banatie.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["PurgeOutbox", "alias_tag", "enqueue", "image_tag", "purge_request"]

#: How long a claimed row is left alone by other workers while one is sending it.
CLAIM_SECONDS = 120.0
BATCH = 20


def image_tag(image_id: str) -> str:
    """The Cache-Tag of every response for this image (by id or through an alias)."""
    return f"bnt-img-{image_id}"


def alias_tag(org: str, project: str, alias: str) -> str:
    """The Cache-Tag of every response served through this alias."""
    return f"bnt-alias-{quote(org, safe='')}/{quote(project, safe='')}/{quote(alias, safe='@')}"


async def enqueue(session: AsyncSession, image: Image, refs: Iterable[str], reason: str) -> None:
    """Add a purge of `refs` (the image's id and/or aliases, as in URLs) to the session.

    The URLs come from the image: its original, presets, srcset and every variant it has had.
    The caller commits (with the change that needs the purge).
    """
    refs = list(dict.fromkeys(r for r in refs if r))
    if not refs:
        return
    slugs = (
        await session.execute(
            select(Organization.slug, Project.slug)
            .join(Project, Project.organization_id == Organization.id)
            .where(Project.id == image.project_id)
        )
    ).first()
    if slugs is None:
        return
    queries = (
        await session.execute(
            select(ImageVariant.spec)
            .where(ImageVariant.image_id == image.id, ImageVariant.format != DECODED_FORMAT)
            .distinct()
        )
    ).scalars()
    payload: dict[str, Any] = {
        "org": slugs[0],
        "project": slugs[1],
        "imageId": image.id,
        "refs": refs,
        "width": image.width,
        "queries": sorted(queries),
    }
    session.add(CdnPurge(payload=payload, reason=reason[:40], next_attempt_at=utcnow()))


def _with_accept_variants(urls: list[str], param: str | None) -> list[str]:
    """A Cloudflare Transform Rule appends `&{param}=avif|webp|other` to format=auto URLs so the
    cache key tells negotiated formats apart (docs/cdn.md); those cache entries need purging."""
    if not param:
        return urls
    out: list[str] = []
    for url in urls:
        out.append(url)
        query = url.partition("?")[2].lower()
        if "format=auto" in query or "fmt=auto" in query:
            out += [f"{url}&{param}={value}" for value in ("avif", "webp", "other")]
    return out


def purge_request(settings: Settings, payload: dict[str, Any]) -> PurgeRequest:
    """Expand an outbox payload into the URLs and tags to purge, with the current settings."""
    org, project = str(payload["org"]), str(payload["project"])
    urls: list[str] = []
    tags: list[str] = [image_tag(str(payload["imageId"]))] if payload.get("imageId") else []
    for ref in payload.get("refs", []):
        urls += presets.published_urls(
            settings,
            org,
            project,
            str(ref),
            width=int(payload.get("width") or 1),
            queries=[str(q) for q in payload.get("queries", [])],
        )
        if str(ref).startswith("@"):
            tags.append(alias_tag(org, project, str(ref)))
    urls = _with_accept_variants(list(dict.fromkeys(urls)), settings.cloudflare_accept_param)
    return PurgeRequest(
        urls=tuple(urls), tags=tuple(dict.fromkeys(tags)) if settings.cloudflare_purge_tags else ()
    )


@dataclass(eq=False)
class PurgeOutbox(Poller):
    """Sends pending purges; one per process, started and stopped by the app's lifespan."""

    task_name = "banatie-cdn-purge-outbox"
    what = "CDN purge outbox"
    log = log

    sessionmaker: async_sessionmaker[AsyncSession]
    purger: CdnPurger
    settings: Settings

    @property
    def poll_seconds(self) -> float:
        return self.settings.cdn_purge_poll_seconds

    # -- one pass --------------------------------------------------------------------------

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        base = self.settings.cdn_purge_retry_base_seconds
        delay = min(self.settings.cdn_purge_retry_max_seconds, base * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.9, 1.1)  # replicas that failed together do not retry together
        return float(max(delay, retry_after or 0.0))

    @property
    def settle_seconds(self) -> float:
        """How long a new purge waits: other processes may serve an image row for one
        BANATIE_DELIVERY_METADATA_TTL_SECONDS after a change (banatie.delivery.cache)."""
        ttl = self.settings.delivery_metadata_ttl_seconds
        return ttl + 0.5 if ttl > 0 else 0.0

    async def drain_once(self, now: datetime | None = None) -> int:
        """Send every due purge once; return how many the CDN confirmed."""
        now = now or utcnow()
        due_before = now - timedelta(seconds=self.settle_seconds)
        async with unit_of_work(self.sessionmaker) as session:
            due = (
                await session.execute(
                    select(CdnPurge.id, CdnPurge.version)
                    .where(CdnPurge.status == "pending", CdnPurge.next_attempt_at <= due_before)
                    .order_by(CdnPurge.next_attempt_at)
                    .limit(BATCH)
                )
            ).all()
        sent = 0
        for row_id, version in due:
            row = await self._claim(row_id, version, now)
            if row is not None and await self._send(row, now):
                sent += 1
        return sent

    async def _claim(self, row_id: str, version: int, now: datetime) -> CdnPurge | None:
        async with unit_of_work(self.sessionmaker) as session:
            result = await session.execute(
                update(CdnPurge)
                .where(CdnPurge.id == row_id, CdnPurge.version == version)
                .values(
                    version=version + 1,
                    next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS),
                )
                .execution_options(synchronize_session=False)
            )
            await transactions.commit_early(session, why="other workers see the claim at once")
            if getattr(result, "rowcount", 0) != 1:
                return None  # another worker has it
            return await session.get(CdnPurge, row_id)

    async def _send(self, row: CdnPurge, now: datetime) -> bool:
        try:
            request = purge_request(self.settings, row.payload)
            if request:
                await self.purger.purge(request)
        except PurgeError as exc:
            await self._failed(row, exc.message, exc.retry_after, now)
            return False
        except Exception as exc:  # a bug or a bad payload: keep the row, say so
            await self._failed(row, f"{type(exc).__name__}: {exc}", None, now)
            return False
        async with unit_of_work(self.sessionmaker) as session:
            await session.execute(delete(CdnPurge).where(CdnPurge.id == row.id))
        log.info(
            "CDN purge sent (%s, %s): %d URLs, %d tags",
            row.reason,
            self.purger.name,
            len(request.urls),
            len(request.tags),
        )
        return True

    async def _failed(
        self, row: CdnPurge, error: str, retry_after: float | None, now: datetime
    ) -> None:
        attempts = row.attempts + 1
        give_up = attempts >= self.settings.cdn_purge_max_attempts
        delay = self.backoff(attempts, retry_after)
        async with unit_of_work(self.sessionmaker) as session:
            await session.execute(
                update(CdnPurge)
                .where(CdnPurge.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=error[:1000],
                    status="failed" if give_up else "pending",
                    next_attempt_at=now + timedelta(seconds=delay),
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        if give_up:
            log.error(
                "CDN purge %s (%s) failed %d times and is parked as 'failed' in cdn_purges: %s",
                row.id,
                row.reason,
                attempts,
                error,
            )
        else:
            log.warning(
                "CDN purge %s (%s) failed (attempt %d), retrying in %.0fs: %s",
                row.id,
                row.reason,
                attempts,
                delay,
                error,
            )
