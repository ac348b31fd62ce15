"""Parts of the Python SDK that need no server: signatures equal the server's, error classes
per code, Retry-After parsing."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banatie.delivery import signing as server_signing
from banatie.live import signing as server_live_signing
from banatie_sdk import (
    AliasConflictError,
    AsyncBanatie,
    AsyncFlow,
    Banatie,
    BanatieError,
    ContentBlockedError,
    Flow,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ProviderError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
)
from banatie_sdk._retry import parse_retry_after
from banatie_sdk.errors import error_for
from banatie_sdk.signing import LIVE_PARAMS, TRANSFORM_PARAMS, signature

names = st.sampled_from(
    [*sorted(TRANSFORM_PARAMS | LIVE_PARAMS), "W", " Mode", "utm_source", "key", "sig"]
)
pairs = st.lists(st.tuples(names, st.text(max_size=12)), max_size=8)


@given(pairs=pairs, key=st.text(min_size=1, max_size=10))
def test_image_signature_is_the_servers(pairs: list[tuple[str, str]], key: str) -> None:
    path = "/cdn/acme/site/img/@logo"
    assert signature(key, path, pairs, TRANSFORM_PARAMS) == server_signing.signature(
        key, path, pairs
    )


@given(pairs=pairs, secret=st.text(min_size=1, max_size=10))
def test_live_signature_is_the_servers(pairs: list[tuple[str, str]], secret: str) -> None:
    path = server_live_signing.live_path("acme", "site", "landing")
    ours = signature(secret, path, pairs, LIVE_PARAMS | TRANSFORM_PARAMS)
    assert ours == server_live_signing.signature(secret, path, pairs)


def test_signed_url_matches_the_server_helper() -> None:
    client = Banatie(
        api_key="bnt_x",
        base_url="https://api.example.com",
        organization="acme",
        project="site",
        cdn_base_url="https://cdn.example.com",
        signing_key="k",
    )
    ours = client.images.url("@logo", w=400, h=300, mode="crop", expires_at=1767225600)
    theirs = server_signing.signed_url(
        "https://cdn.example.com",
        "acme",
        "site",
        "@logo",
        "w=400&h=300&mode=crop",
        key="k",
        expires_at=1767225600,
    )
    assert ours == theirs


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (404, "IMAGE_NOT_FOUND", NotFoundError),
        (404, "SOMETHING_NEW_NOT_FOUND", NotFoundError),
        (409, "ALIAS_CONFLICT", AliasConflictError),
        (429, "RATE_LIMIT_EXCEEDED", RateLimitError),
        (429, "QUOTA_EXCEEDED", QuotaExceededError),
        (422, "CONTENT_BLOCKED", ContentBlockedError),
        (502, "PROVIDER_ERROR", ProviderError),
        (503, "MODEL_UNAVAILABLE", ProviderError),
        (503, "PROVIDER_ERROR", ProviderError),
        (503, "SOMETHING_NEW", ProviderError),
        (503, "DATABASE_UNAVAILABLE", ServiceUnavailableError),
        (503, "STORAGE_UNAVAILABLE", ServiceUnavailableError),
        (503, "STORAGE_ERROR", ServiceUnavailableError),
        (503, "RATE_LIMITER_UNAVAILABLE", ServiceUnavailableError),
        (503, "UNAVAILABLE", ServiceUnavailableError),
        (403, "REFERRER_NOT_ALLOWED", PermissionDeniedError),
        (500, "INTERNAL_ERROR", InternalServerError),
        (418, "TEAPOT", BanatieError),
    ],
)
def test_error_class_per_code(status: int, code: str, cls: type[BanatieError]) -> None:
    error = error_for(status, code, "message", {"x": 1}, 2.0)
    assert type(error) is cls
    assert (error.status, error.code, error.message, error.details, error.retry_after) == (
        status,
        code,
        "message",
        {"x": 1},
        2.0,
    )


def test_every_503_the_server_answers_has_the_class_of_its_cause() -> None:
    """The model's 503s are ProviderError; the server's own (database, store, limiter,
    shutdown) are ServiceUnavailableError, so a caller can tell a model outage from its own."""
    import banatie.app  # noqa: F401  (imports every feature's errors)
    from banatie.error_base import CodedError
    from banatie.providers.errors import ProviderError as ServerProviderError

    def every(cls: type[CodedError]) -> list[type[CodedError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in every(child))]

    unavailable = [cls for cls in every(CodedError) if cls.status == 503]
    assert {cls.code for cls in unavailable} >= {"DATABASE_UNAVAILABLE", "MODEL_UNAVAILABLE"}
    for cls in unavailable:
        expected = (
            ProviderError if issubclass(cls, ServerProviderError) else ServiceUnavailableError
        )
        assert type(error_for(503, cls.code, "m")) is expected, cls


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=30)
    parsed = parse_retry_after(format_datetime(later, usegmt=True))
    assert parsed is not None and 25 <= parsed <= 30


def test_the_sdk_signs_exactly_the_parameters_the_server_signs() -> None:
    """The SDK cannot import the server, so its lists are copies: a new server parameter must be
    added to them too, or URLs the SDK signs with that parameter would not verify (and one the
    server stopped signing would make the SDK's signatures differ)."""
    assert TRANSFORM_PARAMS == server_signing.SIGNED_PARAMS
    assert LIVE_PARAMS == server_live_signing.LIVE_PARAMS


def _calls_of(obj: object) -> dict[str, list[tuple[str, object, object]]]:
    """Public methods of `obj` with their parameters (name, kind, default)."""
    found: dict[str, list[tuple[str, object, object]]] = {}
    for name in dir(obj):
        member = getattr(obj, name)
        if name.startswith("_") or not callable(member) or isinstance(member, type):
            continue
        if name.startswith("model_") or name in {"copy", "dict", "json", "construct"}:
            continue  # pydantic's own
        parameters = inspect.signature(member).parameters.values()
        found[name] = [(p.name, p.kind, p.default) for p in parameters]
    return found


def test_the_sync_and_async_clients_offer_the_same_calls() -> None:
    """The two clients are written twice (one awaits): the same resources, methods and
    parameters in both, so neither falls behind."""
    sync, asynchronous = Banatie(api_key="bnt_x"), AsyncBanatie(api_key="bnt_x")
    for path in ("", "generations", "images", "live", "live.scopes", "flows", "namespaces"):
        ours, theirs = sync, asynchronous
        for part in filter(None, path.split(".")):
            ours, theirs = getattr(ours, part), getattr(theirs, part)
        assert _calls_of(ours) == _calls_of(theirs), path or "client"
    assert _calls_of(Flow) == _calls_of(AsyncFlow)
