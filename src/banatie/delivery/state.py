"""What delivery keeps for the life of the process: the CDN purger, the purge outbox worker,
the image-row cache, in-flight variant renders and the canonical forms of the configured
presets. All of it belongs to one :class:`Delivery` (one per runtime), none to a module."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from banatie.concurrency.single_flight import SingleFlight
from banatie.db import transactions
from banatie.delivery import outbox as cdn_purges
from banatie.delivery.cache import ImageRowCache
from banatie.delivery.cdn import CdnPurger, CloudflareCdnPurger, NoopCdnPurger
from banatie.delivery.outbox import PurgeOutbox
from banatie.delivery.params import TransformSpec, parse_transform
from banatie.delivery.presets import srcset_query, srcset_widths
from banatie.delivery.repository import DeliveryDb
from banatie.delivery.transform import tune_process
from banatie.images.models import Image
from banatie.settings import Settings


@dataclass
class Delivery:
    settings: Settings
    purger: CdnPurger
    outbox: PurgeOutbox
    lookup: DeliveryDb
    rows: ImageRowCache
    flights: SingleFlight
    #: Canonical specs of the configured presets: free of the cap on unsigned variants.
    preset_specs: frozenset[str]
    #: Preset name (lower case) -> its parameters, for ``preset=name`` in URLs.
    preset_params: dict[str, dict[str, str]]
    _slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = field(default_factory=dict)
    #: Canonical form of a srcset query, remembered (a published-URL check on every miss).
    _srcset_canonical: Callable[[str], str] = field(
        default_factory=lambda: lru_cache(maxsize=256)(_canonical)
    )

    async def urls_changed(
        self, session: AsyncSession, image: Image, refs: Iterable[str], reason: str
    ) -> None:
        """The URLs `refs` of `image` (its id and/or aliases) now serve something else, or
        nothing: this process stops reusing image rows at once (:class:`ImageRowCache`) and the
        CDN purge is queued in `session`'s transaction (committed with the change, by the
        caller). The one call every such change makes."""
        refs = [r for r in refs if r]
        if refs:
            self.rows.changed()
            # And again once committed: a request may have cached the old row in between.
            transactions.after_commit(session, self._forget_rows)
        await cdn_purges.enqueue(session, image, refs, reason)

    async def _forget_rows(self) -> None:
        self.rows.changed()

    def render_slots(self) -> asyncio.Semaphore:
        """Renders in progress (original read, render, store) per event loop: one more than the
        libvips pool has threads, so the next original is read while the pool is busy."""
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            self._slots.clear()  # a new loop (tests) never shares the old one's semaphore
            slots = self._slots[loop] = asyncio.Semaphore(max(1, self.settings.cpu_workers) + 1)
        return slots

    def parse(self, params: dict[str, str]) -> TransformSpec:
        return parse_transform(
            params,
            max_dimension=self.settings.max_transform_dimension,
            max_dpr=self.settings.max_transform_dpr,
            presets=self.preset_params,
        )

    def is_published(self, spec: TransformSpec, image_width: int) -> bool:
        """A preset or a srcset width of this image: URLs Banatie itself hands out."""
        canonical = spec.canonical()
        if canonical in self.preset_specs:
            return True
        return any(
            canonical == self._srcset_canonical(srcset_query(w)) for w in srcset_widths(image_width)
        )

    async def close(self) -> None:
        await self.outbox.stop()
        await self.purger.close()
        await self.lookup.close()


def _canonical(query: str) -> str:
    return parse_transform(dict(parse_qsl(query)), max_dimension=1 << 20, max_dpr=16.0).canonical()


def make_purger(settings: Settings) -> CdnPurger:
    if settings.cloudflare_zone_id or settings.cloudflare_api_token:
        if not (settings.cloudflare_zone_id and settings.cloudflare_api_token):
            raise ValueError(
                "set both BANATIE_CLOUDFLARE_ZONE_ID and BANATIE_CLOUDFLARE_API_TOKEN, or neither"
            )
        return CloudflareCdnPurger(
            settings.cloudflare_zone_id,
            settings.cloudflare_api_token,
            base_url=settings.cloudflare_api_base_url,
        )
    return NoopCdnPurger()


def build_delivery(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    purger: CdnPurger | None = None,
) -> Delivery:
    tune_process()
    purger = purger or make_purger(settings)
    preset_specs = frozenset(_canonical(p.query) for p in settings.presets)
    return Delivery(
        settings=settings,
        purger=purger,
        outbox=PurgeOutbox(sessionmaker, purger, settings),
        lookup=DeliveryDb(engine, settings.resolved_database_url),
        rows=ImageRowCache(settings.delivery_metadata_ttl_seconds),
        flights=SingleFlight(),
        preset_specs=preset_specs,
        preset_params={p.name.lower(): dict(parse_qsl(p.query)) for p in settings.presets},
    )
