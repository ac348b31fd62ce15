"""Sending webhooks from the outbox (`webhook_deliveries`): one `Dispatcher` per process
(`banatie serve` starts it in the app's lifespan), any number of replicas.

A pass claims due deliveries (`repository.claim_due`: `FOR UPDATE SKIP LOCKED` on PostgreSQL and
a version bump everywhere, so two dispatchers never hold one delivery), signs each
(`signing.signed_headers`) and POSTs it with `BANATIE_WEBHOOK_TIMEOUT_SECONDS`, refusing
private addresses at send time too (`banatie.ssrf`: DNS can change after registration) and
following no redirect. A 2xx answer marks it `succeeded`; anything else is retried after the
next delay of `BANATIE_WEBHOOK_RETRY_SECONDS`, and when they are used up the delivery is
`failed` (kept, visible in the delivery log, redeliverable). A claim lasts `lease_seconds`: a
dispatcher killed mid-attempt leaves its delivery to another one after that (the same
`webhook-id` again: receivers de-duplicate on it); one that is stopped gives its claims back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from banatie import ssrf
from banatie.concurrency.poller import Poller
from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.observability import metrics
from banatie.settings import Settings
from banatie.webhooks import repository, signing
from banatie.webhooks.repository import Claimed

log = logging.getLogger(__name__)

BATCH = 20
USER_AGENT = "Banatie-Webhooks/1"


class Dispatcher(Poller):
    task_name = "banatie-webhook-dispatcher"
    what = "webhook dispatcher"
    log = log

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    @property
    def lease_seconds(self) -> float:
        """How long a claim keeps other dispatchers off a delivery: longer than any attempt."""
        return self.settings.webhook_timeout_seconds * 2 + 5

    @property
    def poll_seconds(self) -> float:
        return self.settings.webhook_poll_seconds

    # -- lifecycle -------------------------------------------------------------------------

    async def stop(self) -> None:
        await super().stop()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- one pass --------------------------------------------------------------------------

    async def drain_once(self) -> int:
        """Attempt every due delivery once (concurrently); return how many succeeded."""
        async with unit_of_work(self.sessionmaker) as session:
            claimed = await repository.claim_due(
                session, now=utcnow(), lease_seconds=self.lease_seconds, limit=BATCH
            )
        if not claimed:
            return 0
        results = await asyncio.gather(*(self._deliver(one) for one in claimed))
        return sum(results)

    async def _deliver(self, claimed: Claimed) -> bool:
        try:
            values = await self._attempt(claimed)
        except asyncio.CancelledError:  # stopping: the next dispatcher sends it at once
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(claimed))
            raise
        async with unit_of_work(self.sessionmaker) as session:
            kept = await repository.record_attempt(session, claimed, values)
        if not kept:
            log.warning("webhook delivery %s: its claim had expired; outcome dropped", claimed.id)
        metrics.webhook_attempted(values["status"])
        return bool(values["status"] == "succeeded")

    async def _release(self, claimed: Claimed) -> None:
        async with unit_of_work(self.sessionmaker) as session:
            await repository.release(session, claimed, utcnow())

    async def _attempt(self, claimed: Claimed) -> dict[str, Any]:
        now = utcnow()
        if not claimed.enabled:
            return _outcome(claimed, now, status="cancelled", error="the endpoint is disabled")
        if not claimed.url or not claimed.secret:
            return _outcome(claimed, now, status="failed", error="no target URL or secret")
        status_code: int | None = None
        try:
            with anyio.fail_after(self.settings.webhook_timeout_seconds):
                status_code = await self._post(claimed, now)
            error = (
                None if 200 <= status_code < 300 else f"the receiver answered HTTP {status_code}"
            )
        except ssrf.UrlNotAllowed as exc:
            error = f"{exc.code}: {exc.message}"
        except (TimeoutError, httpx.TimeoutException):
            error = f"no answer within {self.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:1000]
        if error is None:
            return _outcome(claimed, now, status="succeeded", status_code=status_code)
        delays = self.settings.webhook_retry_delays
        if claimed.attempt > len(delays):
            log.error(
                "webhook %s (%s) failed %d times; marked failed: %s",
                claimed.message_id,
                claimed.id,
                claimed.attempt,
                error,
            )
            return _outcome(claimed, now, status="failed", status_code=status_code, error=error)
        delay = delays[claimed.attempt - 1]
        log.warning(
            "webhook %s (%s) attempt %d failed, retrying in %gs: %s",
            claimed.message_id,
            claimed.id,
            claimed.attempt,
            delay,
            error,
        )
        return _outcome(
            claimed,
            now,
            status="pending",
            status_code=status_code,
            error=error,
            next_attempt_at=now + timedelta(seconds=delay),
        )

    async def _post(self, claimed: Claimed, now: datetime) -> int:
        assert claimed.url is not None and claimed.secret is not None
        allow_private = self.settings.fetch_private_urls
        await ssrf.check_url(claimed.url, allow_private=allow_private)
        body = signing.body_of(claimed.payload)
        headers = {
            **signing.signed_headers(claimed.secret, claimed.message_id, body, now),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        async with self.client.stream("POST", claimed.url, content=body, headers=headers) as answer:
            ssrf.check_peer(answer, claimed.url, allow_private=allow_private)
            return answer.status_code

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                trust_env=False,
                follow_redirects=False,
                timeout=self.settings.webhook_timeout_seconds,
            )
        return self._client


def _outcome(
    claimed: Claimed,
    now: datetime,
    *,
    status: str,
    status_code: int | None = None,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "attempts": claimed.attempt,
        "last_attempt_at": now,
        "last_status_code": status_code,
        "last_error": error,
        "next_attempt_at": next_attempt_at,
        "updated_at": now,
    }
