"""Signed URLs: the canonical form SDKs reproduce, round trips, tampering and expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banatie.delivery import presets, signing
from banatie.delivery.params import TransformError

KEY = "k3y"
PATH = "/cdn/acme/site/img/1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"


def pairs(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def test_canonical_query_is_syntactic_sorted_and_encoded() -> None:
    query = "W=400&utm_source=x&c.gravity=50,30&format=auto&exp=99&bgcolor=%23fff&sig=zzz"
    assert signing.canonical_query(query) == (
        "bgcolor=%23fff&c.gravity=50%2C30&exp=99&format=auto&w=400"
    )
    assert signing.canonical_query("") == ""


def test_signature_is_documented_hmac() -> None:
    """What the README tells SDK authors, computed by hand."""
    message = f"{PATH}?h=300&mode=crop&w=400".encode()
    digest = hmac.new(KEY.encode(), message, hashlib.sha256).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert signing.signature(KEY, PATH, "w=400&mode=crop&h=300") == expected


def test_round_trip_and_order_independence() -> None:
    query = signing.sign_query(KEY, PATH, "w=400&h=300&mode=crop")
    assert query.startswith("w=400&h=300&mode=crop&sig=")
    assert signing.verify(KEY, PATH, pairs(query)) == (True, None)
    shuffled = "&".join(reversed(query.split("&")))
    assert signing.verify(KEY, PATH, pairs(shuffled)) == (True, None)
    assert signing.verify(KEY, PATH, pairs(query + "&utm=1")) == (True, None)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda q: q.replace("w=400", "w=401"),
        lambda q: q + "&w=9",
        lambda q: q + "&quality=5",
        lambda q: q.replace("sig=", "sig=A"),
    ],
)
def test_tampering_is_caught(mutate: object) -> None:
    query = signing.sign_query(KEY, PATH, "w=400&h=300")
    with pytest.raises(TransformError) as caught:
        signing.verify(KEY, PATH, pairs(mutate(query)))  # type: ignore[operator]
    assert caught.value.param == "sig"


def test_path_is_signed() -> None:
    query = signing.sign_query(KEY, PATH, "w=10")
    with pytest.raises(TransformError):
        signing.verify(KEY, PATH.replace("acme", "other"), pairs(query))


def test_expiry() -> None:
    query = signing.sign_query(KEY, PATH, "w=10", expires_at=1000)
    assert "exp=1000&sig=" in query
    assert signing.verify(KEY, PATH, pairs(query), now=999) == (True, 1000)
    with pytest.raises(TransformError, match="expired") as caught:
        signing.verify(KEY, PATH, pairs(query), now=1000)
    assert caught.value.param == "exp"
    aware = signing.sign_query(KEY, PATH, "w=10", expires_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert "exp=1893456000" in aware
    with pytest.raises(ValueError):
        signing.sign_query(KEY, PATH, "w=10", expires_at=datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("w=1&exp=5", "exp"),  # exp without sig
        ("w=1&sig=a&sig=b", "sig"),
    ],
)
def test_malformed(query: str, param: str) -> None:
    with pytest.raises(TransformError) as caught:
        signing.verify(KEY, PATH, pairs(query), now=0)
    assert caught.value.param == param


def test_bad_exp_value_is_named() -> None:
    query = signing.sign_query(KEY, PATH, "w=1&exp=soon")
    with pytest.raises(TransformError) as caught:
        signing.verify(KEY, PATH, pairs(query))
    assert caught.value.param == "exp"


def test_unsigned_and_keyless() -> None:
    assert signing.verify(KEY, PATH, pairs("w=10")) == (False, None)
    assert signing.verify(None, PATH, pairs("w=10")) == (False, None)
    with pytest.raises(TransformError):
        signing.verify(None, PATH, pairs("w=10&sig=abc"))


def test_signed_url_helper_and_presets_agree() -> None:
    image_id = PATH.rsplit("/", 1)[1]
    url = signing.signed_url("https://cdn.example.com/", "acme", "site", image_id, "w=64", key=KEY)
    assert url == f"https://cdn.example.com{PATH}?" + signing.sign_query(KEY, PATH, "w=64")
    host = presets.ImageHost("https://cdn.example.com", "acme", "site", KEY)
    variants = presets.variant_urls(host, image_id, presets.DEFAULT_PRESETS)
    for name, preset_url in variants.items():
        parts = urlsplit(preset_url)
        if name == "original":
            assert not parts.query
            continue
        assert signing.verify(KEY, parts.path, pairs(parts.query)) == (True, None)
    keyless = presets.ImageHost("https://cdn.example.com", "acme", "site")
    unsigned = presets.variant_urls(keyless, image_id, presets.DEFAULT_PRESETS)
    assert "sig=" not in "".join(unsigned.values())


def test_srcset_is_capped_at_the_transform_limit() -> None:
    assert presets.srcset_widths(100) == [100]
    assert presets.srcset_widths(1344) == [320, 640, 960, 1280, 1344]
    assert presets.srcset_widths(10000) == [320, 640, 960, 1280, 1920, 4096]


@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(["w", "h", "mode", "quality", "format", "junk", "c.gravity"]),
            st.text(min_size=0, max_size=8),
        ),
        max_size=6,
    )
)
def test_any_signed_query_verifies(query: list[tuple[str, str]]) -> None:
    from urllib.parse import urlencode

    signed = signing.sign_query(KEY, PATH, urlencode(query))
    assert signing.verify(KEY, PATH, pairs(signed))[0] is True
