"""Log lines: JSON or text, with the request id, and never a secret."""

from __future__ import annotations

import json
import logging
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from banatie.accounts.keys import generate_key
from banatie.observability import context
from banatie.observability.logs import REDACTED, RequestIdFilter, Scrubber, make_formatter

GEMINI_KEY = "AIzaSyD-0123456789abcdefghijklmnopqrstu"


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("banatie.test", logging.WARNING, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(rec, name, value)
    RequestIdFilter().filter(rec)
    return rec


@pytest.mark.parametrize(
    "line",
    [
        "calling with X-API-Key: {key}",
        "headers {{'authorization': 'Bearer {key}', 'accept': '*/*'}}",
        "headers [('x-api-key', '{key}')]",
        "Authorization=Bearer {key}",
        "the key {key} was refused",
        "GET https://generativelanguage.googleapis.com/v1beta/models?key={gemini}",
        "x-goog-api-key: {gemini}",
        "fetching /cdn/acme/site/img/abc?w=400&exp=1767225600&sig=Jx4TfQ9mZxw0aRkq",
        "s3://bucket?endpoint=http://minio:9000&secret_access_key=minio-very-secret",
        "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        # Query names in any case, and the non-ASCII letters case-insensitive patterns take
        # (the Kelvin sign for "k").
        "GET /cdn/acme/site/img/abc?w=400&SIG=Jx4TfQ9mZxw0aRkq 200",
        "GET /x?Access_Token=Jx4TfQ9mZxw0aRkq 200",
        "GET /x?api_\u212aey=Jx4TfQ9mZxw0aRkq 200",
        "GET /x?a=1&signature=Jx4TfQ9mZxw0aRkq",
    ],
)
def test_secret_shapes_are_scrubbed(line: str) -> None:
    key = generate_key()
    text = line.format(key=key, gemini=GEMINI_KEY)
    scrubbed = Scrubber()(text)
    assert REDACTED in scrubbed
    for secret in (key, GEMINI_KEY, "Jx4TfQ9mZxw0aRkq", "minio-very-secret", "K5oZfzN95Z9"):
        assert secret not in scrubbed


@pytest.mark.parametrize(
    "line",
    [
        "COOKIE: opaque-session-value",
        "sent Set-Cookie: opaque-session-value; Path=/",
        "en-tête Cookie: opaque-session-value (déjà vu)",  # not ASCII: searched in full
        "headers {'Webhook-Signature': 'opaque-session-value'}",
    ],
)
def test_header_values_are_scrubbed_whatever_their_case_and_shape(line: str) -> None:
    scrubbed = Scrubber()(line)
    assert "opaque-session-value" not in scrubbed and REDACTED in scrubbed


def test_an_access_line_keeps_its_words_and_loses_its_signature() -> None:
    line = "GET /cdn/acme/site/img/abc?w=400&format=webp&sig=Jx4TfQ9mZxw0aRkq 200 0.4 ms"
    assert Scrubber(["a-signing-key-123"])(line) == line.replace("Jx4TfQ9mZxw0aRkq", REDACTED)


def test_a_line_without_secrets_is_left_as_it_is() -> None:
    line = "GET /cdn/acme/site/live/hero?prompt=a%20key%20to%20the%20city&w=400 200 0.3 ms"
    assert Scrubber(["a-signing-key-123"])(line) == line


def test_text_lines_show_the_time_of_each_record() -> None:
    """The formatter makes the time text once a second: each line still shows its own."""
    formatter = make_formatter("text")
    plain = logging.Formatter("%(asctime)s", "%Y-%m-%d %H:%M:%S")
    for created in (1767225600.1, 1767225600.9, 1767225601.0, 1767225599.5, 1767312000.0):
        rec = record("tick")
        rec.created = created
        assert formatter.format(rec).startswith(plain.format(rec) + " WARNING"), created


def test_a_keys_display_prefix_stays_and_ordinary_words_are_left_alone() -> None:
    key = generate_key()
    scrubbed = Scrubber()(f"revoked key {key}; send the key in the Authorization header")
    assert key[:12] in scrubbed  # what `keys list` shows, to tell keys apart
    assert key not in scrubbed
    assert scrubbed.endswith("send the key in the Authorization header")


def test_configured_secrets_are_scrubbed_whatever_their_shape() -> None:
    scrub = Scrubber(["my-signing-key-1234", None, "short"])
    assert scrub("signing with my-signing-key-1234 now") == f"signing with {REDACTED} now"
    assert scrub("a short word") == "a short word"  # too short to search for literally


def test_json_lines_carry_the_request_id_and_the_fields_of_the_record() -> None:
    formatter = make_formatter("json", ["s3cr3t-token-value"])
    token = context.begin(context.RequestInfo("req-123"))
    try:
        rec = record("GET %s 200", "/x?sig=abcdef1234", route="/x", status=200)
    finally:
        context.end(token)
    line = formatter.format(rec)
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "banatie.test"
    assert data["request_id"] == "req-123"
    assert data["route"] == "/x" and data["status"] == 200
    assert data["message"] == f"GET /x?sig={REDACTED} 200"
    assert "time" in data


def test_json_lines_scrub_tracebacks() -> None:
    key = generate_key()
    formatter = make_formatter("json")
    try:
        raise RuntimeError(f"upstream said no to {key}")
    except RuntimeError:
        import sys

        rec = logging.LogRecord(
            "banatie.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    data = json.loads(formatter.format(rec))
    assert "RuntimeError" in data["exc_info"]
    assert key not in json.dumps(data)


def test_text_lines_name_the_request_after_the_message() -> None:
    formatter = make_formatter("text")
    token = context.begin(context.RequestInfo("abc123"))
    try:
        rec = record("something happened")
    finally:
        context.end(token)
    line = formatter.format(rec)
    assert line.endswith("WARNING banatie.test: something happened [req abc123]")
    outside = formatter.format(record("no request here"))
    assert "[req" not in outside


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("3f2a9c1e-8d4b-4c1e-9f00-1234567890ab", True),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("", False),
        ("has space", False),
        ("line\nbreak", False),
        ('quote"', False),
        ("x" * 129, False),
    ],
)
def test_request_ids_from_clients_are_kept_only_when_sane(sent: str, kept: bool) -> None:
    made = context.accept_or_make(sent)
    assert (made == sent) is kept
    if not kept:
        assert len(made) == 32 and int(made, 16) >= 0


def _scrub_everything(text: str, literal: str) -> str:
    """What the scrubber must return: every shape searched in the whole line, in order."""
    text = text.replace(literal, REDACTED)
    for pattern, replacement in (
        (r"(bnt_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+", r"\1" + REDACTED),
        (r"AIza[0-9A-Za-z_-]{20,}", REDACTED),
        (
            r"(?i)((?:authorization|x\-api\-key|x\-goog\-api\-key|cookie|set\-cookie"
            r"|webhook\-signature)"
            r"""(?:['"]?\s*[:=]|['"]\s*,)\s*['"]?)(?:bearer\s+|basic\s+)?[^\s'";}]+""",
            r"\1" + REDACTED,
        ),
        (
            r"(?i)([?&](?:sig|signature|key|api_key|apikey|token|access_token"
            r"|secret_access_key|session_token)=)[^&\s\"']+",
            r"\1" + REDACTED,
        ),
    ):
        text = re.sub(pattern, replacement, text)
    return text


_PIECES = [
    "GET /cdn/a/b/img/x",
    "?",
    "&",
    "=",
    " ",
    "sig",
    "SIG",
    "signature",
    "key",
    "api_key",
    "secret_access_key",
    "session_token",
    "token",
    "&secret_access_key=",
    "?session_token=",
    "&api_key=",
    "?Signature=",
    "&sig=",
    "\u212aey",  # the Kelvin sign: "key" to a case-insensitive pattern
    "X-API-Key: ",
    "Authorization: Bearer ",
    "cookie=",
    "Set-Cookie: ",
    "webhook-signature: ",
    "x-goog-api-key=",
    "bnt_",
    "AIza",
    "abcdefgh12345678abcdefgh",
    "my-signing-key-1234",
    "é",
    "'",
    '"',
]


@given(st.lists(st.sampled_from(_PIECES), max_size=14))
@example(["GET /x", "&secret_access_key=", "abcdefgh12345678abcdefgh"])
def test_scrubbing_only_where_a_pattern_can_match_changes_nothing(pieces: list[str]) -> None:
    """The scrubber skips patterns (and the start of a line) that cannot match: whatever the
    line, it returns what searching every pattern in all of it returns."""
    text = "".join(pieces)
    assert Scrubber(["my-signing-key-1234"])(text) == _scrub_everything(text, "my-signing-key-1234")
