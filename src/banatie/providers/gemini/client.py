"""The one place that talks to Gemini: the google-genai client built from settings, bounded
retries with backoff that honours the server's `RetryInfo`, and the mapping of every failure to
`banatie.providers.errors`.

google-genai's own retries are disabled (`HttpRetryOptions(attempts=1)`) so that this module alone
decides what is retried, how long to wait and what the caller finally sees:

| Gemini answer                                  | retried | finally raised                 |
|------------------------------------------------|---------|--------------------------------|
| 429 RESOURCE_EXHAUSTED                         | yes     | ProviderRateLimited (503)      |
| 5xx (INTERNAL, UNAVAILABLE, …), 408, transport | yes     | ProviderError (502)            |
| other 4xx (INVALID_ARGUMENT, PERMISSION_DENIED)| no      | ProviderError (502)            |
| no answer within gemini_timeout_seconds        | no      | ProviderTimeout (504)          |
| a body that is not a GenerateContentResponse   | no      | ProviderError (502)            |

Blocked prompts and finishes without output are judged by the adapters (`ContentBlocked`).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import ValidationError

from banatie.providers.errors import (
    ContentBlocked,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
)
from banatie.settings import Settings

logger = logging.getLogger("banatie.providers.gemini")

# A server-requested wait longer than this is not sat out inside a request: we give up at once and
# pass the delay on as Retry-After.
MAX_RETRY_WAIT_SECONDS = 20.0
# Our own exponential backoff never waits longer than this between two attempts.
MAX_BACKOFF_SECONDS = 16.0
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
# HTTP statuses worth another attempt besides 5xx.
RETRYABLE_STATUSES = frozenset({408, 429})

Sleep = Callable[[float], Awaitable[None]]


def _exception_types(name: str) -> tuple[type[BaseException], ...]:
    """`name` from httpx and from httpx2 (the fork newer google-genai releases use), if present."""
    found: list[type[BaseException]] = []
    for module_name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


_TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    *_exception_types("TimeoutException"),
)
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = _exception_types("TransportError")


class GeminiClient:
    """A google-genai client plus Banatie's retry policy and error mapping.

    One instance can be shared by the synthesizer, the enhancer and the analyzer; call `aclose()`
    on shutdown. `sleep` is injectable so tests can observe the backoff delays.
    """

    def __init__(self, settings: Settings, *, sleep: Sleep | None = None) -> None:
        if not settings.gemini_api_key:
            raise ValueError("Gemini adapters need an API key: set BANATIE_GEMINI_API_KEY")
        self.settings = settings
        self.timeout = float(settings.gemini_timeout_seconds)
        self.max_retries = max(0, int(settings.gemini_max_retries))
        self.retry_base = max(0.0, float(settings.gemini_retry_base_seconds))
        self._sleep: Sleep = sleep or asyncio.sleep
        self._client = genai.Client(
            vertexai=False,
            api_key=settings.gemini_api_key,
            http_options=types.HttpOptions(
                base_url=settings.gemini_base_url or None,
                api_version=settings.gemini_api_version,
                timeout=max(1, math.ceil(self.timeout * 1000)),
                # attempts=1: the SDK never retries (nor sleeps); this class does.
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    @property
    def genai(self) -> genai.Client:
        return self._client

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def generate(
        self,
        *,
        model: str,
        contents: types.ContentListUnion,
        config: types.GenerateContentConfig,
        operation: str,
        max_retries: int | None = None,
        attempt_timeout: float | None = None,
    ) -> types.GenerateContentResponse:
        """`generate_content` with retries; raises only `ProviderError` and its subclasses.

        `max_retries` and `attempt_timeout` (at most the client's) override the settings.
        """
        retries = self.max_retries if max_retries is None else max(0, max_retries)
        deadline = self.timeout if attempt_timeout is None else min(self.timeout, attempt_timeout)
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(deadline):
                    return await self._client.aio.models.generate_content(
                        model=model, contents=contents, config=config
                    )
            except genai_errors.APIError as exc:
                failure = _describe(exc)
                if not _is_retryable(exc):
                    raise ProviderError(
                        f"Gemini rejected the {operation} request ({failure})"
                    ) from exc
                server_delay = retry_delay(exc)
                delay = self._backoff(attempt, server_delay)
                if attempt >= retries or delay > MAX_RETRY_WAIT_SECONDS:
                    raise _exhausted(exc, operation, failure, attempt + 1, delay) from exc
                logger.warning(
                    "Gemini %s attempt %d failed (%s); retrying in %.2fs",
                    operation,
                    attempt + 1,
                    failure,
                    delay,
                )
            except _TIMEOUT_ERRORS as exc:
                raise ProviderTimeout(
                    f"Gemini did not answer the {operation} request within {deadline:g}s"
                ) from exc
            except _TRANSPORT_ERRORS as exc:
                delay = self._backoff(attempt, None)
                if attempt >= retries:
                    raise ProviderError(
                        f"Gemini {operation} request failed after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                logger.warning(
                    "Gemini %s attempt %d failed (%s); retrying in %.2fs",
                    operation,
                    attempt + 1,
                    type(exc).__name__,
                    delay,
                )
            except (ValueError, ValidationError, genai_errors.UnknownApiResponseError) as exc:
                # JSONDecodeError, pydantic validation of the body, undecodable base64 …
                raise ProviderError(
                    f"Gemini returned a malformed {operation} response: {_short(exc)}"
                ) from exc
            await self._sleep(delay)
            attempt += 1

    async def ping(self, model: str | None = None) -> str:
        """Ask Gemini about `model` (a cheap authenticated GET), for `banatie doctor`.

        Returns the model's resource name; raises `ProviderError`/`ProviderTimeout`.
        """
        target = model or self.settings.gemini_text_model
        try:
            async with asyncio.timeout(self.timeout):
                info = await self._client.aio.models.get(model=target)
        except genai_errors.APIError as exc:
            raise ProviderError(
                f"Gemini did not accept the model check ({_describe(exc)})"
            ) from exc
        except _TIMEOUT_ERRORS as exc:
            raise ProviderTimeout(f"Gemini did not answer within {self.timeout:g}s") from exc
        except _TRANSPORT_ERRORS as exc:
            raise ProviderError(f"Gemini is unreachable: {type(exc).__name__}: {exc}") from exc
        except (ValueError, ValidationError) as exc:
            raise ProviderError(f"Gemini returned a malformed answer: {_short(exc)}") from exc
        return info.name or target

    def _backoff(self, attempt: int, server_delay: float | None) -> float:
        """Exponential backoff with a little jitter, never shorter than the server asked."""
        own = min(MAX_BACKOFF_SECONDS, self.retry_base * (2.0**attempt))
        own *= 1 + random.uniform(0, 0.2)
        return max(own, server_delay) if server_delay is not None else own


# ----------------------------------------------------------------------------- request helpers


def fast_thinking(model: str) -> types.ThinkingConfig | None:
    """Thinking off for the 2.5 Flash text models (the agents' small JSON tasks need none and
    thinking adds seconds); other models keep their default, since e.g. 2.5 Pro cannot turn it off.
    """
    if model.removeprefix("models/").startswith("gemini-2.5-flash") and "image" not in model:
        return types.ThinkingConfig(thinking_budget=0)
    return None


# ----------------------------------------------------------------------------- response helpers


def enum_name(value: Any) -> str | None:
    """An SDK enum (or an unknown string the SDK passed through) as its wire name."""
    if value is None:
        return None
    raw = getattr(value, "value", value)
    return str(raw) if raw is not None else None


def raise_if_prompt_blocked(response: types.GenerateContentResponse, operation: str) -> None:
    feedback = response.prompt_feedback
    reason = enum_name(feedback.block_reason) if feedback is not None else None
    if reason and reason != "BLOCKED_REASON_UNSPECIFIED":
        message = feedback.block_reason_message if feedback is not None else None
        detail = f": {message}" if message else ""
        raise ContentBlocked(
            f"Gemini blocked the {operation} prompt ({reason}){detail}", reason=reason
        )


def first_candidate(response: types.GenerateContentResponse, operation: str) -> types.Candidate:
    raise_if_prompt_blocked(response, operation)
    if not response.candidates:
        raise ProviderError(f"Gemini returned no candidates for the {operation} request")
    return response.candidates[0]


def candidate_parts(candidate: types.Candidate) -> list[types.Part]:
    return list(candidate.content.parts or []) if candidate.content is not None else []


def candidate_text(candidate: types.Candidate) -> str:
    """The candidate's answer text, without thought summaries."""
    return "".join(p.text for p in candidate_parts(candidate) if p.text and not p.thought)


def raise_for_unfinished(candidate: types.Candidate, operation: str, *, what: str) -> NoReturn:
    """A candidate without the expected output: `ContentBlocked` with Gemini's finish reason.

    A candidate that has neither output nor a finish reason is a malformed body.
    """
    reason = enum_name(candidate.finish_reason)
    if reason is None:
        raise ProviderError(
            f"Gemini returned a malformed {operation} response: no {what} and no finishReason"
        )
    if reason in ("STOP", "FINISH_REASON_UNSPECIFIED"):
        reason = "NO_IMAGE" if what == "image" else "NO_OUTPUT"
    detail = candidate.finish_message or candidate_text(candidate).strip()
    suffix = f": {detail[:300]}" if detail else ""
    raise ContentBlocked(f"Gemini returned no {what} ({reason}){suffix}", reason=reason)


def usage_counts(response: types.GenerateContentResponse) -> dict[str, int]:
    usage = response.usage_metadata
    if usage is None:
        return {}
    prompt = usage.prompt_token_count or 0
    output = usage.candidates_token_count or 0
    counts = {
        "promptTokens": prompt,
        "outputTokens": output,
        "totalTokens": usage.total_token_count or prompt + output,
    }
    if usage.thoughts_token_count:
        counts["thoughtsTokens"] = usage.thoughts_token_count
    return counts


# ----------------------------------------------------------------------------- error helpers


_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")


def parse_duration(value: Any) -> float | None:
    """A google.protobuf.Duration in JSON ("7s", "0.5s", "1.000340s") or {seconds, nanos}."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, dict):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def retry_delay(exc: genai_errors.APIError) -> float | None:
    """The `retryDelay` of the error body's google.rpc.RetryInfo detail, in seconds."""
    body = exc.details
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return None
    error = body.get("error", body)
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO_TYPE:
            delay = parse_duration(detail.get("retryDelay"))
            if delay is not None and math.isfinite(delay) and delay >= 0:
                return delay
    return None


def _is_retryable(exc: genai_errors.APIError) -> bool:
    code = exc.code if isinstance(exc.code, int) else 0
    return code in RETRYABLE_STATUSES or 500 <= code < 600


def _describe(exc: genai_errors.APIError) -> str:
    status = f" {exc.status}" if exc.status else ""
    message = f": {exc.message}" if exc.message else ""
    return f"{exc.code}{status}{message}"


def _exhausted(
    exc: genai_errors.APIError, operation: str, failure: str, attempts: int, next_delay: float
) -> ProviderError:
    if exc.code == 429:
        retry_after = retry_delay(exc)
        return ProviderRateLimited(
            f"Gemini is rate limiting the {operation} requests ({failure}); "
            f"gave up after {attempts} attempt(s)",
            retry_after=retry_after if retry_after is not None else round(next_delay, 3),
        )
    return ProviderError(
        f"Gemini {operation} request failed after {attempts} attempt(s) ({failure})"
    )


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text[:200]}"
