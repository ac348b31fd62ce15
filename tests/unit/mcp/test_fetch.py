"""`upload_image` by URL refuses private, loopback, link-local and reserved targets (SSRF)."""

from __future__ import annotations

import pytest

from banatie import ssrf
from banatie.errors import ValidationError
from banatie.mcp import fetch


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/logo.png",
        "http://localhost/logo.png",
        "http://10.1.2.3/x.png",
        "http://192.168.0.10/x.png",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",
        "http://100.64.0.1/x.png",  # carrier-grade NAT
        "http://0.0.0.0/x.png",
    ],
)
async def test_private_targets_are_refused_before_connecting(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        await fetch.fetch(url, max_bytes=1000, allow_private=False, timeout_seconds=5)
    assert "private, loopback or reserved" in refused.value.message
    assert refused.value.details == {"field": "url"}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.png", "http:///x"])
async def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        await fetch.fetch(url, max_bytes=1000, allow_private=False, timeout_seconds=5)


def test_public_addresses_pass_the_check() -> None:
    ssrf.check_address("93.184.216.34", "http://example.com/")  # no exception
