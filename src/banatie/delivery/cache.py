"""A short-lived, per-process memory of the image rows behind `/cdn` URLs.

A hot image is requested many times a second (every CDN edge that misses, every variant of its
srcset); looking its row up each time costs more than the rest of a cached-variant hit. So a
row is reused for ``BANATIE_DELIVERY_METADATA_TTL_SECONDS`` (1 s; 0 turns this off), bounded
to :data:`MAX_ENTRIES` rows. What it caches is metadata, never bytes: every response still
reads its blob, and a deleted image's blobs are gone at once.

Staleness is bounded and accounted for:

* in this process, every change that matters to delivery (delete, alias move or removal, focal
  point) goes through :meth:`banatie.delivery.state.Delivery.urls_changed`, which queues the CDN
  purge and calls :meth:`ImageRowCache.changed` on the runtime's cache, so it forgets every row;
* in other processes and replicas a row is at most one TTL old; that is why the purge outbox
  holds each purge back by the TTL (plus a margin) before telling the CDN — a CDN refetch after
  the purge can never meet a stale row.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Final

from banatie.delivery.repository import ImageRow

MAX_ENTRIES: Final = 4096


class ImageRowCache:
    def __init__(self, ttl_seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = max(0.0, ttl_seconds)
        self.max_entries = max_entries
        self._rows: OrderedDict[tuple[str, str, str], tuple[float, int, ImageRow]] = OrderedDict()
        # Bumped by every change: a row read before a change is never kept after it.
        self._epoch = 0

    def changed(self) -> None:
        """Something delivery depends on changed in this process: forget every cached row."""
        self._epoch += 1
        self._rows.clear()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, org: str, project: str, ref: str) -> ImageRow | None:
        if not self.ttl:
            return None
        key = (org, project, ref)
        entry = self._rows.get(key)
        if entry is None:
            return None
        stored_at, epoch, row = entry
        if epoch != self._epoch or time.monotonic() - stored_at > self.ttl:
            del self._rows[key]
            return None
        return row

    def token(self) -> int:
        """Take before reading a row from the database; give it to :meth:`put`."""
        return self._epoch

    def put(self, org: str, project: str, ref: str, row: ImageRow, token: int) -> None:
        """Keep `row` unless something changed since `token` was taken (it may be stale)."""
        if not self.ttl or token != self._epoch:
            return
        self._rows[(org, project, ref)] = (time.monotonic(), token, row)
        self._rows.move_to_end((org, project, ref))
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)
