"""Whole replies of hot `/cdn/…/img/…` URLs, kept in memory while their image row is.

A cached variant is immutable under its key (the key hashes the canonical transform and the
original's hash), so once a URL has been answered from the blob store, the next request of the
very same URL text gets the very same status, headers and bytes, for as long as the image row
it was made from is the one :class:`banatie.delivery.cache.ImageRowCache` still holds. That
row is at most `BANATIE_DELIVERY_METADATA_TTL_SECONDS` (1 s) old and is dropped at once by any
change in this process, so a warm reply is never staler than a row: within a second of a change
elsewhere (and at once here) the URL goes through :func:`banatie.delivery.service.deliver` again.

This is what a live URL hit does (`banatie.live.fastpath`): the text of a URL is parsed and
checked once, its headers built once, its bytes read once per row lifetime. Only plain `GET`s
without a conditional header are answered here, and only replies that
:func:`~banatie.delivery.service.deliver` marks repeatable (`Reply.warm`): a `200` read from
the store (never a render's first reply, never an error), without `exp` (its `Cache-Control`
counts down) or a watermark (it depends on a second image's row).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from banatie.delivery.repository import ImageRow

#: (raw path, raw query, Accept) -> reply: the URL as the client wrote it.
WarmKey = tuple[bytes, bytes, bytes]


@dataclass(frozen=True, slots=True)
class WarmReply:
    row: ImageRow  # the cached row object it was made from: valid while it is the cached one
    org: str
    project: str
    ref: str
    headers: list[tuple[bytes, bytes]]  # with Content-Type and Content-Length
    body: bytes


class WarmReplies:
    """Replies by URL text, least recently used first out, bounded by their bytes in total (a
    reply bigger than an eighth of the budget is never kept). One event loop uses it."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, max_bytes)
        self.max_item_bytes = self.max_bytes // 8
        self.size = 0
        self._items: OrderedDict[WarmKey, WarmReply] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: WarmKey) -> WarmReply | None:
        """The reply for `key`; the caller checks that its row is still the cached one."""
        reply = self._items.get(key)
        if reply is not None:
            self._items.move_to_end(key)
        return reply

    def discard(self, key: WarmKey) -> None:
        self._drop(key)

    def put(self, key: WarmKey, reply: WarmReply) -> None:
        if len(reply.body) > self.max_item_bytes:
            return
        self._drop(key)
        self._items[key] = reply
        self.size += len(reply.body)
        while self.size > self.max_bytes and self._items:
            self._drop(next(iter(self._items)))

    def clear(self) -> None:
        self._items.clear()
        self.size = 0

    def _drop(self, key: WarmKey) -> None:
        reply = self._items.pop(key, None)
        if reply is not None:
            self.size -= len(reply.body)
