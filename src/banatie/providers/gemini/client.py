"""The one place that talks to Gemini: the google-genai client built from settings, the model
resolver (`models.ModelResolver`), bounded retries with backoff that honours the server's
`RetryInfo`, and the mapping of every failure to `banatie.providers.errors`.

google-genai's own retries are disabled (`HttpRetryOptions(attempts=1)`) so that this module alone
decides what is retried, how long to wait and what the caller finally sees:

| Gemini answer                                   | retried        | finally raised              |
|-------------------------------------------------|----------------|-----------------------------|
| 429 RESOURCE_EXHAUSTED                          | yes            | ProviderRateLimited (503)   |
| 5xx (INTERNAL, UNAVAILABLE, …), 408, transport  | yes            | ProviderError (502)         |
| 504 DEADLINE_EXCEEDED, no answer in time        | no             | ProviderTimeout (504)       |
| 404 for the model                               | once, re-resolved | ModelNotFound (502)      |
| other 4xx (INVALID_ARGUMENT, PERMISSION_DENIED) | no             | ProviderError (502)         |
| a body that is not a GenerateContentResponse    | no             | ProviderError (502)         |
| an answer without output that is no block       | once (`call`)  | ProviderError (502), reason |
| a request the SDK refuses before sending it     | no             | ProviderRequestError (500)  |

Transport failures are those of whichever HTTP backend the SDK uses: httpx (or its fork httpx2)
by default, aiohttp when it is importable. Blocked prompts and finishes without output are judged
by the adapters (`ContentBlocked`, `IncompleteAnswer`). Reading answers is `answers`, reading
failures `failures`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import ValidationError

from banatie.providers.errors import (
    ProviderError,
    ProviderRequestError,
    ProviderTimeout,
)
from banatie.providers.gemini.answers import (
    IncompleteAnswer,
    candidate_text,
    first_candidate,
    raise_for_unfinished,
)
from banatie.providers.gemini.failures import (
    TIMEOUT_ERRORS,
    TRANSPORT_ERRORS,
    ModelNotFound,
    describe,
    exhausted,
    is_retryable,
    raised_reading_the_answer,
    retry_delay,
    short,
)
from banatie.providers.gemini.families import C, TextCapabilities, bare_id
from banatie.providers.gemini.models import (
    ListedModel,
    ModelListingUnsupported,
    ModelResolver,
    ResolvedModel,
)
from banatie.settings import Settings

logger = logging.getLogger("banatie.providers.gemini")

T = TypeVar("T")

# A server-requested wait longer than this is not sat out inside a request: we give up at once and
# pass the delay on as Retry-After.
MAX_RETRY_WAIT_SECONDS = 20.0
# Our own exponential backoff never waits longer than this between two attempts.
MAX_BACKOFF_SECONDS = 16.0
# models.list page size (the API's maximum); the SDK's pager fetches the further pages.
LIST_PAGE_SIZE = 1000
# Listing is a cheap GET: a short limit and one retry, since requests may wait for it.
LIST_TIMEOUT_SECONDS = 10.0
Sleep = Callable[[float], Awaitable[None]]


class GeminiClient:
    """A google-genai client plus Banatie's model resolution, retry policy and error mapping.

    One instance is shared by the synthesizer, the enhancer and the analyzer; call `aclose()`
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
        self.models = ModelResolver(settings, self.list_models)

    @property
    def genai(self) -> genai.Client:
        return self._client

    async def aclose(self) -> None:
        await self.models.aclose()
        await self._client.aio.aclose()

    async def call(
        self,
        resolve: Callable[[], Awaitable[ResolvedModel[C]]],
        attempt: Callable[[ResolvedModel[C]], Awaitable[T]],
        *,
        operation: str,
        retry_incomplete: bool = True,
    ) -> T:
        """Run `attempt` on the resolved model. A 404 for the model resolves it again once (the
        model was retired); an `IncompleteAnswer` is tried once more."""
        model = await resolve()
        rerouted = retried = False
        while True:
            try:
                return await attempt(model)
            except ModelNotFound:
                if rerouted:
                    raise
                rerouted = True
                await self.models.forget(model.id)
                fresh = await resolve()
                if fresh.id == model.id:
                    raise
                logger.warning(
                    "Gemini answered 404 for %s; the %s now uses %s", model.id, operation, fresh.id
                )
                model = fresh
            except IncompleteAnswer as exc:
                if retried or not retry_incomplete:
                    raise
                retried = True
                logger.warning("Gemini %s: %s; trying once more", operation, exc.message)

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
        return await self._retrying(
            operation,
            lambda: self._client.aio.models.generate_content(
                model=model, contents=contents, config=config
            ),
            max_retries=max_retries,
            attempt_timeout=attempt_timeout,
        )

    async def answer_text(
        self,
        model: ResolvedModel[TextCapabilities],
        *,
        system: str,
        parts: list[types.Part],
        schema: types.Schema,
        temperature: float,
        operation: str,
        max_retries: int | None = None,
        attempt_timeout: float | None = None,
    ) -> str:
        """One JSON-answering call on the text model: the answer's text (thoughts left out), or
        `ContentBlocked` / `IncompleteAnswer` saying why there is none."""
        contents, config = json_request(
            model.capabilities, system=system, parts=parts, schema=schema, temperature=temperature
        )
        response = await self.generate(
            model=model.id,
            contents=contents,
            config=config,
            operation=operation,
            max_retries=max_retries,
            attempt_timeout=attempt_timeout,
        )
        candidate = first_candidate(response, operation)
        text = candidate_text(candidate).strip()
        if not text:
            raise_for_unfinished(candidate, operation, what="text")
        return text

    async def list_models(self) -> list[ListedModel]:
        """Every model `models.list` offers this key (all pages)."""

        async def every_page() -> list[ListedModel]:
            pager = await self._client.aio.models.list(
                config=types.ListModelsConfig(page_size=LIST_PAGE_SIZE)
            )
            return [
                ListedModel(bare_id(model.name), tuple(model.supported_actions or ()))
                async for model in pager
                if model.name
            ]

        try:
            return await self._retrying(
                "model listing",
                every_page,
                max_retries=min(self.max_retries, 1),
                attempt_timeout=LIST_TIMEOUT_SECONDS,
            )
        except ModelNotFound as exc:
            raise ModelListingUnsupported(exc.message) from exc

    async def _retrying(
        self,
        operation: str,
        request: Callable[[], Awaitable[T]],
        *,
        max_retries: int | None = None,
        attempt_timeout: float | None = None,
    ) -> T:
        retries = self.max_retries if max_retries is None else max(0, max_retries)
        deadline = self.timeout if attempt_timeout is None else min(self.timeout, attempt_timeout)
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(deadline):
                    return await request()
            except genai_errors.APIError as exc:
                failure = describe(exc)
                if exc.code == 404:
                    raise ModelNotFound(
                        f"Gemini answered the {operation} request with {failure}"
                    ) from exc
                if exc.code == 504 or exc.status == "DEADLINE_EXCEEDED":
                    # Gemini's own deadline passed: a second wait as long is worse than an answer.
                    raise ProviderTimeout(
                        f"Gemini gave up on the {operation} request ({failure})"
                    ) from exc
                if not is_retryable(exc):
                    raise ProviderError(
                        f"Gemini rejected the {operation} request ({failure})"
                    ) from exc
                server_delay = retry_delay(exc)
                delay = self._backoff(attempt, server_delay)
                if attempt >= retries or delay > MAX_RETRY_WAIT_SECONDS:
                    raise exhausted(exc, operation, failure, attempt + 1, delay) from exc
                logger.warning(
                    "Gemini %s attempt %d failed (%s); retrying in %.2fs",
                    operation,
                    attempt + 1,
                    failure,
                    delay,
                )
            except TIMEOUT_ERRORS as exc:
                raise ProviderTimeout(
                    f"Gemini did not answer the {operation} request within {deadline:g}s"
                ) from exc
            except TRANSPORT_ERRORS as exc:
                delay = self._backoff(attempt, None)
                if attempt >= retries:
                    raise ProviderError(
                        f"Gemini is unreachable: the {operation} request failed after "
                        f"{attempt + 1} attempt(s): {type(exc).__name__}: {exc}"
                    ) from exc
                logger.warning(
                    "Gemini %s attempt %d failed (%s); retrying in %.2fs",
                    operation,
                    attempt + 1,
                    type(exc).__name__,
                    delay,
                )
            except (
                ValueError,
                TypeError,
                ValidationError,
                genai_errors.UnknownApiResponseError,
            ) as exc:
                if not raised_reading_the_answer(exc):
                    raise ProviderRequestError(
                        f"the Gemini client refused the {operation} request before sending it: "
                        f"{short(exc)}"
                    ) from exc
                # JSONDecodeError, pydantic validation of the body, undecodable base64 …
                raise ProviderError(
                    f"Gemini returned a malformed {operation} response: {short(exc)}"
                ) from exc
            await self._sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int, server_delay: float | None) -> float:
        """Exponential backoff with a little jitter, never shorter than the server asked."""
        own = min(MAX_BACKOFF_SECONDS, self.retry_base * (2.0**attempt))
        own *= 1 + random.uniform(0, 0.2)
        return max(own, server_delay) if server_delay is not None else own


# ----------------------------------------------------------------------------- request helpers


def answer_schema(properties: dict[str, types.Schema]) -> types.Schema:
    """The JSON object a call answers: every property required, in the order given."""
    names = list(properties)
    return types.Schema(
        type=types.Type.OBJECT, properties=properties, required=names, property_ordering=names
    )


def text_field(description: str) -> types.Schema:
    return types.Schema(type=types.Type.STRING, description=description)


def json_request(
    capabilities: TextCapabilities,
    *,
    system: str,
    parts: list[types.Part],
    schema: types.Schema,
    temperature: float,
) -> tuple[list[types.Content], types.GenerateContentConfig]:
    """Contents and config of a call that answers JSON, as the text model's row allows: the
    instruction folded into the user turn where it takes no system instruction, the schema only
    where it supports structured output, the cheapest thinking setting it accepts."""
    if not capabilities.system_instruction:
        parts = [types.Part.from_text(text=system), *parts]
    structured = capabilities.structured_output
    config = types.GenerateContentConfig(
        system_instruction=system if capabilities.system_instruction else None,
        response_mime_type="application/json" if structured else None,
        response_schema=schema if structured else None,
        temperature=temperature,
        thinking_config=capabilities.thinking_config(),
    )
    return [types.Content(role="user", parts=parts)], config


class GeminiAdapter:
    """What every Gemini adapter holds: the settings and the client (shared, or its own),
    which it closes."""

    name = "gemini"

    def __init__(self, settings: Settings, *, client: GeminiClient | None = None) -> None:
        self.settings = settings
        self.client = client or GeminiClient(settings)

    async def aclose(self) -> None:
        await self.client.aclose()
