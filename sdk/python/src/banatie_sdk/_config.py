"""Client settings: arguments first, then ``BANATIE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from banatie_sdk.errors import AuthenticationError

DEFAULT_BASE_URL = "http://localhost:8000"
DEFAULT_TIMEOUT = 120.0  # a generation with Gemini can take a while
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_DELAY = 60.0


@dataclass(frozen=True)
class Config:
    api_key: str
    base_url: str
    cdn_base_url: str
    organization: str | None
    project: str | None
    signing_key: str | None
    live_signing_secret: str | None
    timeout: float
    max_retries: int
    max_retry_delay: float


def _origin(url: str) -> str:
    url = url.rstrip("/")
    # Accept the API's own base too: https://host/api/v1 is https://host.
    for suffix in ("/api/v1", "/api"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def make_config(
    *,
    api_key: str | None,
    base_url: str | None,
    cdn_base_url: str | None,
    organization: str | None,
    project: str | None,
    signing_key: str | None,
    live_signing_secret: str | None,
    timeout: float,
    max_retries: int,
    max_retry_delay: float,
) -> Config:
    env = os.environ
    key = api_key or env.get("BANATIE_API_KEY")
    if not key:
        raise AuthenticationError(
            "no API key: pass Banatie(api_key=…) or set BANATIE_API_KEY", code="UNAUTHORIZED"
        )
    base = _origin(base_url or env.get("BANATIE_BASE_URL") or DEFAULT_BASE_URL)
    if max_retries < 0:
        raise ValueError("max_retries must be 0 or more")
    return Config(
        api_key=key,
        base_url=base,
        cdn_base_url=(cdn_base_url or env.get("BANATIE_CDN_BASE_URL") or base).rstrip("/"),
        organization=organization or env.get("BANATIE_ORGANIZATION"),
        project=project or env.get("BANATIE_PROJECT"),
        signing_key=signing_key or env.get("BANATIE_DELIVERY_SIGNING_KEY"),
        live_signing_secret=live_signing_secret or env.get("BANATIE_LIVE_SIGNING_SECRET"),
        timeout=timeout,
        max_retries=max_retries,
        max_retry_delay=max_retry_delay,
    )
