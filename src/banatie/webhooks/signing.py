"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets are `whsec_` +
base64 of random bytes; a message is signed as `{webhook-id}.{webhook-timestamp}.{body}` with
HMAC-SHA256 and sent as `webhook-signature: v1,<base64>` by the `standardwebhooks` library,
whose `Webhook.verify` is what a receiver (and our tests) check it with."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from math import floor
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): the same on every attempt."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    at = at.astimezone(UTC)
    signature = Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signature,
    }
