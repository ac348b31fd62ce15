"""Client IP behind trusted proxies, referrer allow-lists, signed live URLs, refusal bodies."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import pytest

from banatie.errors import ApiError
from banatie.live import signing
from banatie.live.client_ip import client_ip, trusted_hosts
from banatie.live.policy import normalize_domain, referrer_allowed
from banatie.live.refusal import refusal, svg, wants_image
from banatie.providers.errors import ProviderError
from banatie.settings import Settings


@pytest.mark.parametrize(
    "peer, expected",
    [
        ("203.0.113.5", "203.0.113.5"),
        ("::ffff:10.0.0.2", "10.0.0.2"),  # an IPv4 client on a dual-stack socket
        ("2001:db8::1", "2001:db8::1"),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_client_ip(peer: str | None, expected: str) -> None:
    assert client_ip(peer) == expected


def test_trusted_proxies_reach_the_server_and_nobody_is_trusted_by_default() -> None:
    assert trusted_hosts("") == []
    assert trusted_hosts(" 10.0.0.1/8, ::1 ") == ["10.0.0.0/8", "::1/128"]
    assert trusted_hosts("10.0.0.0/8, *") == "*"


def test_bad_trusted_proxy_setting_is_an_error() -> None:
    with pytest.raises(ValueError, match="not an IP"):
        Settings(_env_file=None, trusted_proxies="10.0.0.0/8, proxy.internal")


@pytest.mark.parametrize(
    "referer, allowed, expected",
    [
        ("https://example.com/a", (), True),
        (None, (), True),
        ("https://example.com/a", ("example.com",), True),
        ("https://www.example.com:8443/a", ("example.com",), True),
        ("https://example.com.evil.test/", ("example.com",), False),
        ("https://notexample.com/", ("example.com",), False),
        (None, ("example.com",), False),
        ("not a url", ("example.com",), False),
        ("http://localhost:3000/", ("localhost",), True),
    ],
)
def test_referrer_allowed(referer: str | None, allowed: tuple[str, ...], expected: bool) -> None:
    assert referrer_allowed(referer, allowed) is expected


def test_normalize_domain() -> None:
    assert normalize_domain("https://Example.COM/path") == "example.com"
    assert normalize_domain("*.shop.test") == "shop.test"
    assert normalize_domain("Example.com:8080") == "example.com"


def test_signed_live_url_round_trip() -> None:
    path = signing.live_path("acme", "site", "blog")
    query = signing.sign("s3cret", path, {"prompt": "a fox & a hare", "w": "800"})
    pairs = [*parse_qsl(query), ("utm_source", "newsletter")]  # tracking is not signed
    assert signing.verify("s3cret", path, pairs) is True
    assert signing.verify("s3cret", path, [("prompt", "x")]) is False  # unsigned
    for tampered in (
        [(k, "a wolf" if k == "prompt" else v) for k, v in pairs],
        [*pairs, ("aspectRatio", "16:9")],
        [*pairs, ("w", "4000")],
    ):
        with pytest.raises(signing.InvalidSignature):
            signing.verify("s3cret", path, tampered)
    with pytest.raises(signing.InvalidSignature):
        signing.verify("other", path, pairs)
    with pytest.raises(signing.InvalidSignature):
        signing.verify("s3cret", signing.live_path("acme", "site", "docs"), pairs)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(None, path, pairs)


def test_signed_live_url_expiry() -> None:
    path = signing.live_path("acme", "site", "blog")
    soon = int(time.time()) + 60
    pairs = parse_qsl(signing.sign("k", path, {"prompt": "x"}, expires_at=soon))
    assert signing.verify("k", path, pairs) is True
    with pytest.raises(signing.InvalidSignature, match="expired"):
        signing.verify("k", path, pairs, now=soon + 1)


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", True),
        ("image/webp,*/*", True),
        ("application/json", False),
        ("*/*", False),
        (None, False),
        ("application/json, image/png", False),
    ],
)
def test_wants_image(accept: str | None, expected: bool) -> None:
    assert wants_image(accept) is expected


def test_refusal_bodies() -> None:
    error = ApiError(
        "too many", code="RATE_LIMIT_EXCEEDED", status=429, headers={"Retry-After": "30"}
    )
    image = refusal(error, accept="image/*", aspect_ratio="16:9")
    assert image.status_code == 429 and image.media_type == "image/svg+xml"
    assert image.headers["cache-control"] == "no-store" and image.headers["retry-after"] == "30"
    root = ElementTree.fromstring(bytes(image.body))
    assert root.attrib["width"] == "1344" and root.attrib["height"] == "768"
    assert "retry in 30 s" in bytes(image.body).decode()
    assert "retry in 2 h" in svg(429, "QUOTA_EXCEEDED", "used up", "1:1", "7200")
    as_json = refusal(ProviderError("down"), accept="application/json")
    assert as_json.status_code == 502 and b"PROVIDER_ERROR" in bytes(as_json.body)
    crash = refusal(RuntimeError("secret detail"), accept=None)
    assert crash.status_code == 500 and b"secret detail" not in bytes(crash.body)
    head = refusal(error, accept="image/*", head=True)
    assert bytes(head.body) == b"" and int(head.headers["content-length"]) > 0


def test_svg_escapes_text() -> None:
    body = svg(400, "VALIDATION_ERROR", "prompt <script>&", "1:1", None)
    ElementTree.fromstring(body)  # well-formed
    assert "<script>" not in body
