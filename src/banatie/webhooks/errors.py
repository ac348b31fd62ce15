"""The webhooks feature's errors, each with its stable code (a refused target URL is
`banatie.ssrf.UrlNotAllowed`: URL_NOT_ALLOWED)."""

from __future__ import annotations

from banatie.errors import Conflict, NotFound


class WebhookNotFound(NotFound, code="WEBHOOK_NOT_FOUND"): ...


class WebhookDeliveryNotFound(NotFound, code="WEBHOOK_DELIVERY_NOT_FOUND"): ...


class DeliveryNotRedeliverable(Conflict, code="WEBHOOK_DELIVERY_PENDING"):
    """A redelivery asked for while the delivery is still pending (it is sent as scheduled)."""
