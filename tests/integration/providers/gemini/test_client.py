"""Retries, backoff and error mapping of GeminiClient, observed on the wire-format server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable

import pytest
from google.genai import types

from banatie.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRequestError,
    ProviderTimeout,
)
from banatie.providers.gemini.client import MAX_RETRY_WAIT_SECONDS, GeminiClient
from banatie.providers.gemini.failures import parse_duration
from banatie.providers.gemini.synthesizer import GeminiSynthesizer
from banatie.providers.ports import SynthesisRequest
from banatie.settings import Settings
from tests.support.gemini_server import (
    ClientFailure,
    DeadlineExceeded,
    GeminiServer,
    RateLimit,
    RecordingSleep,
    ServerFailure,
    Slow,
)

REQUEST = SynthesisRequest(prompt="a red bicycle", aspect_ratio="1:1")


def synthesizer(client: GeminiClient) -> GeminiSynthesizer:
    return GeminiSynthesizer(client.settings, client=client)


def test_needs_an_api_key() -> None:
    with pytest.raises(ValueError, match="API key"):
        GeminiClient(Settings(_env_file=None, gemini_api_key=None))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7s", 7.0),
        ("0.5s", 0.5),
        ("1.000340s", 1.00034),
        ("30s", 30.0),
        ({"seconds": 2, "nanos": 500_000_000}, 2.5),
        ("7", None),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_duration(text: object, seconds: float | None) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


async def test_rate_limit_then_success_honours_retry_delay(
    gemini_server: GeminiServer, client: GeminiClient, sleeps: RecordingSleep
) -> None:
    gemini_server.queue(RateLimit(retry_delay="0.75s"), RateLimit(retry_delay="0.5s"))
    result = await synthesizer(client).synthesize(REQUEST)
    assert result.data.startswith(b"\x89PNG")
    assert [r.status for r in gemini_server.requests_of("image")] == [429, 429, 200]
    # The server's RetryInfo wins over the (10 ms) exponential backoff.
    assert sleeps.delays == [pytest.approx(0.75), pytest.approx(0.5)]


async def test_rate_limit_waits_for_real(
    gemini_server: GeminiServer, make_settings: Callable[..., Settings]
) -> None:
    gemini = GeminiClient(make_settings())  # asyncio.sleep, not the recorder
    try:
        gemini_server.queue(RateLimit(retry_delay="0.3s"))
        await synthesizer(gemini).synthesize(REQUEST)
    finally:
        await gemini.aclose()
    first, second = gemini_server.requests_of("image")
    assert second.received_at - first.received_at >= 0.3


async def test_rate_limit_exhausted_is_provider_rate_limited(
    gemini_server: GeminiServer, client: GeminiClient, sleeps: RecordingSleep
) -> None:
    gemini_server.queue(*[RateLimit(retry_delay="0.05s")] * 5)
    with pytest.raises(ProviderRateLimited) as caught:
        await synthesizer(client).synthesize(REQUEST)
    # gemini_max_retries=2: the first attempt and two retries.
    assert len(gemini_server.requests_of("image")) == 3
    assert len(sleeps.delays) == 2
    error = caught.value
    assert (error.status, error.code) == (503, "PROVIDER_ERROR")
    assert error.retry_after == pytest.approx(0.05)
    assert "RESOURCE_EXHAUSTED" in error.message
    assert gemini_server.pending() == 2


async def test_rate_limit_without_retry_info_backs_off_exponentially(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient], sleeps: RecordingSleep
) -> None:
    client = make_client(gemini_max_retries=3, gemini_retry_base_seconds=0.02)
    gemini_server.queue(*[RateLimit(retry_delay=None)] * 4)
    with pytest.raises(ProviderRateLimited) as caught:
        await synthesizer(client).synthesize(REQUEST)
    assert len(gemini_server.requests_of("image")) == 4
    assert len(sleeps.delays) == 3
    for attempt, delay in enumerate(sleeps.delays):
        assert 0.02 * 2**attempt <= delay <= 0.02 * 2**attempt * 1.2
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0


async def test_long_retry_delay_gives_up_at_once(
    gemini_server: GeminiServer, client: GeminiClient, sleeps: RecordingSleep
) -> None:
    gemini_server.queue(RateLimit(retry_delay="3600s"))
    with pytest.raises(ProviderRateLimited) as caught:
        await synthesizer(client).synthesize(REQUEST)
    assert MAX_RETRY_WAIT_SECONDS < 3600
    assert caught.value.retry_after == 3600
    assert len(gemini_server.requests_of("image")) == 1
    assert sleeps.delays == []


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_are_retried_then_provider_error(
    gemini_server: GeminiServer, client: GeminiClient, sleeps: RecordingSleep, status: int
) -> None:
    gemini_server.queue(*[ServerFailure(status)] * 3)
    with pytest.raises(ProviderError) as caught:
        await synthesizer(client).synthesize(REQUEST)
    assert type(caught.value) is ProviderError
    assert (caught.value.status, caught.value.code) == (502, "PROVIDER_ERROR")
    assert str(status) in caught.value.message
    assert len(gemini_server.requests_of("image")) == 3
    assert len(sleeps.delays) == 2


async def test_server_error_then_success(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(ServerFailure(503), ServerFailure(500))
    result = await synthesizer(client).synthesize(REQUEST)
    assert result.mime_type == "image/png"
    assert [r.status for r in gemini_server.requests_of("image")] == [503, 500, 200]


async def test_zero_retries_means_one_attempt(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_max_retries=0)
    gemini_server.queue(ServerFailure(500))
    with pytest.raises(ProviderError):
        await synthesizer(client).synthesize(REQUEST)
    assert len(gemini_server.requests_of("image")) == 1


@pytest.mark.parametrize(
    ("status", "name", "message"),
    [
        (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
        (400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        (403, "PERMISSION_DENIED", "The caller does not have permission"),
    ],
)
async def test_client_errors_are_not_retried(
    gemini_server: GeminiServer,
    client: GeminiClient,
    sleeps: RecordingSleep,
    status: int,
    name: str,
    message: str,
) -> None:
    gemini_server.queue(ClientFailure(status, name, message))
    with pytest.raises(ProviderError) as caught:
        await synthesizer(client).synthesize(REQUEST)
    assert type(caught.value) is ProviderError
    assert caught.value.status == 502
    assert message in caught.value.message
    assert name in caught.value.message
    assert len(gemini_server.requests_of("image")) == 1
    assert sleeps.delays == []


async def test_wrong_api_key(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_api_key="wrong-key")
    with pytest.raises(ProviderError, match="API key not valid"):
        await synthesizer(client).synthesize(REQUEST)
    # The model listing is the first request: with a bad key, nothing else is tried.
    assert [(r.kind, r.api_key) for r in gemini_server.requests] == [("list", "wrong-key")]


async def test_timeout_is_provider_timeout_without_retry(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_timeout_seconds=0.3)
    gemini_server.queue(Slow(seconds=3))
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await synthesizer(client).synthesize(REQUEST)
    assert time.monotonic() - started < 1.5
    assert (caught.value.status, caught.value.code) == (504, "PROVIDER_TIMEOUT")
    assert "0.3s" in caught.value.message


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"], indirect=True)
async def test_unreachable_server_is_retried_then_provider_error(
    make_client: Callable[..., GeminiClient], sleeps: RecordingSleep, http_backend: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(gemini_base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderError, match=r"model listing request failed.*Connect"):
        await synthesizer(client).synthesize(REQUEST)
    assert len(sleeps.delays) == 1  # listing is retried once (it is a cheap GET)


async def test_api_version_is_configurable(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    await synthesizer(make_client(gemini_api_version="v1alpha")).synthesize(REQUEST)
    assert gemini_server.last_request.version == "v1alpha"


# -- transport failures of both HTTP backends google-genai may use ----------------------------


@contextlib.asynccontextmanager
async def raw_server(answer: bytes) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that reads a request and answers `answer` (maybe nothing),
    then hangs up: what a crashed proxy or a reset connection looks like to the client."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


HANG_UPS = {
    "no-answer": b"",
    "truncated-body": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
        b'{"candidates": ['
    ),
}


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"], indirect=True)
@pytest.mark.parametrize("answer", list(HANG_UPS), ids=list(HANG_UPS))
async def test_a_dropped_connection_is_retried_then_provider_error_on_each_backend(
    make_client: Callable[..., GeminiClient],
    sleeps: RecordingSleep,
    http_backend: str,
    answer: str,
) -> None:
    async with raw_server(HANG_UPS[answer]) as url:
        client = make_client(gemini_base_url=url)
        with pytest.raises(ProviderError) as caught:
            await client.generate(
                model="gemini-3-flash-preview",
                contents="hello",
                config=types.GenerateContentConfig(),
                operation="prompt enhancement",
            )
    # A transport failure, retried like a 5xx: never a 500 INTERNAL_ERROR.
    assert type(caught.value) is ProviderError
    assert (caught.value.status, caught.value.code) == (502, "PROVIDER_ERROR")
    assert "failed after 3 attempt(s)" in caught.value.message
    assert len(sleeps.delays) == 2


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"], indirect=True)
async def test_each_backend_runs_the_whole_generation(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient], http_backend: str
) -> None:
    from google.genai import _api_client

    client = make_client()
    assert _api_client.has_aiohttp is (http_backend == "aiohttp")
    result = await synthesizer(client).synthesize(REQUEST)
    assert result.data.startswith(b"\x89PNG")
    assert [r.kind for r in gemini_server.requests] == ["list", "image"]


@pytest.mark.parametrize("http_backend", ["httpx", "aiohttp"], indirect=True)
async def test_timeout_on_each_backend(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient], http_backend: str
) -> None:
    client = make_client(gemini_timeout_seconds=0.4)
    await client.models.image()
    gemini_server.queue(Slow(seconds=3))
    with pytest.raises(ProviderTimeout):
        await synthesizer(client).synthesize(REQUEST)


async def test_deadline_exceeded_is_a_timeout_without_retry(
    gemini_server: GeminiServer, client: GeminiClient, sleeps: RecordingSleep
) -> None:
    gemini_server.queue(DeadlineExceeded(), kind="image")
    with pytest.raises(ProviderTimeout) as caught:
        await synthesizer(client).synthesize(REQUEST)
    assert (caught.value.status, caught.value.code) == (504, "PROVIDER_TIMEOUT")
    assert "DEADLINE_EXCEEDED" in caught.value.message
    assert [r.status for r in gemini_server.requests_of("image")] == [504]
    assert sleeps.delays == []


async def test_a_request_the_sdk_refuses_is_no_malformed_response(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    with pytest.raises(ProviderRequestError) as caught:
        await client.generate(
            model="gemini-3-flash-preview",
            contents=[],
            config=types.GenerateContentConfig(),
            operation="prompt enhancement",
        )
    assert (caught.value.status, caught.value.code) == (500, "INTERNAL_ERROR")
    assert "refused the prompt enhancement request before sending it" in caught.value.message
    assert "malformed" not in caught.value.message
    assert gemini_server.requests == []
