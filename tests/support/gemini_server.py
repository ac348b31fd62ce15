"""A local stand-in for the Gemini API that speaks its documented REST wire format.

It implements `POST /{version}/models/{model}:generateContent`, `GET /{version}/models/{model}`
and `GET /{version}/models` (paginated with `pageSize` / `pageToken`) the way
https://ai.google.dev/api describes them, so the real `google-genai` client runs against it over
HTTP:

- models: only the listed ones exist (`server.set_models(...)`, default `DEFAULT_MODELS`);
  any other answers 404 NOT_FOUND, like a retired model;
- requests: `contents[].parts[]` with `text` or `inlineData` (`mimeType` or `mime_type`, base64
  `data`), `systemInstruction` (refused by image models: "Developer instruction is not enabled"),
  `generationConfig` (`responseModalities`, `imageConfig.aspectRatio` and `imageSize`, checked
  against the model's family, `responseMimeType`, `responseSchema`), API key in `x-goog-api-key`;
- answers: `candidates[0].content.parts[].inlineData` holding a real PNG of the model's size for
  the aspect ratio and imageSize (Gemini 2.5: 10 ratios, 1K only; 3.x: 14 ratios on Flash, 10 on
  Pro, 512/1K/2K/4K), for 3.x models mixed with text, a thought and an interim thought image the
  way thinking image models answer; `finishReason`, `usageMetadata`, `modelVersion`; JSON text
  for `responseMimeType: application/json` (enhancer and analyzer schemas are recognised);
- failures on demand: `server.queue(RateLimit(retry_delay="2s"), kind="image")` makes the next
  image request answer 429 with a google.rpc `RetryInfo`; see the `Behaviour` subclasses.

Every request is recorded (`server.requests`) for assertions, including those answered with an
error. Use it as a context manager or as the `gemini_server` fixture:

    with running_gemini_server() as server:
        settings = Settings(**server.settings_overrides())   # key, base URL, fast retries
        server.queue(BlockPrompt("SAFETY"), kind="image")
        ...
        assert server.requests_of("image")[0].aspect_ratio == "16:9"
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import dataclasses
import hashlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import pyvips
import uvicorn
from google.genai import _api_client as genai_api_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Gemini 2.5 Flash Image output sizes (DESIGN.md §1).
GEMINI_25_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
# Gemini 3.x image models at imageSize 1K (Google's image-generation guide); 512, 2K and 4K are
# these halved, doubled and quadrupled. Pro offers the first ten ratios, Flash all fourteen.
GEMINI_3_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
    "1:4": (512, 2048),
    "4:1": (2048, 512),
    "1:8": (384, 3072),
    "8:1": (3072, 384),
}
GEMINI_3_SCALE = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
# Gemini bills every input or output image of up to 1024px per side as 258 / 1290 tokens (2.5);
# 3.1 Flash bills 747 / 1120 / 1680 / 2520 output tokens at 512 / 1K / 2K / 4K.
INPUT_IMAGE_TOKENS = 258
OUTPUT_IMAGE_TOKENS = 1290
GEMINI_3_OUTPUT_TOKENS = {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520}
THOUGHT_TOKENS = 180
SUPPORTED_INPUT_MIME = {"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"}

# Roughly what models.list answered for an AI Studio key in late 2026.
DEFAULT_MODELS: tuple[str, ...] = (
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-2.5-flash-image",
    "gemini-2.5-flash-preview-tts",
    "gemini-3-flash-preview",
    "gemini-3-pro-preview",
    "gemini-3-pro-image-preview",
    "gemini-3.1-flash-image-preview",
    "gemini-embedding-001",
    "imagen-4.0-generate-001",
)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

Kind = Literal["image", "enhance", "analyze", "text", "list"]

# ----------------------------------------------------------------------------- behaviours


class Behaviour:
    """How the server answers one request; queue instances with `GeminiServer.queue`."""


@dataclass(frozen=True)
class Succeed(Behaviour):
    """The normal answer (what the server does when nothing is queued)."""


@dataclass(frozen=True)
class BlockPrompt(Behaviour):
    """`promptFeedback.blockReason` and no candidates: the prompt itself was blocked."""

    reason: str = "PROHIBITED_CONTENT"


@dataclass(frozen=True)
class FinishWithoutImage(Behaviour):
    """A candidate that finishes with `reason` and carries no image (optionally some text)."""

    reason: str = "IMAGE_SAFETY"
    text: str | None = None
    finish_message: str | None = None


@dataclass(frozen=True)
class RateLimit(Behaviour):
    """429 RESOURCE_EXHAUSTED with a google.rpc error body; `retry_delay` e.g. "7s", "0.5s"."""

    retry_delay: str | None = "1s"
    message: str = (
        "You exceeded your current quota, please check your plan and billing details. "
        "For more information on this error, head to: https://ai.google.dev/gemini-api/docs/"
        "rate-limits."
    )


@dataclass(frozen=True)
class ServerFailure(Behaviour):
    """A 5xx google.rpc error: 500 INTERNAL, 503 UNAVAILABLE ("The model is overloaded")."""

    status: int = 500


@dataclass(frozen=True)
class DeadlineExceeded(Behaviour):
    """504 DEADLINE_EXCEEDED: Gemini's own deadline passed before the model finished."""


@dataclass(frozen=True)
class ClientFailure(Behaviour):
    """A 4xx google.rpc error, e.g. 400 INVALID_ARGUMENT or 403 PERMISSION_DENIED."""

    status: int = 400
    status_name: str = "INVALID_ARGUMENT"
    message: str = "Request contains an invalid argument."


@dataclass(frozen=True)
class Slow(Behaviour):
    """Sleep `seconds` (cut short when the client goes away), then answer with `then`."""

    seconds: float = 5.0
    then: Behaviour = field(default_factory=Succeed)


@dataclass(frozen=True)
class Malformed(Behaviour):
    """A raw body, by default truncated JSON with status 200."""

    body: bytes = b'{"candidates": [{"content": {"parts": [{"inlineData": '
    status: int = 200
    content_type: str = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class JsonText(Behaviour):
    """A successful answer whose single text part is `payload` (JSON-encoded unless a str)."""

    payload: Any


@dataclass(frozen=True)
class ImageReply(Behaviour):
    """A successful image answer with these exact bytes and mime type."""

    data: bytes
    mime_type: str = "image/png"


# ----------------------------------------------------------------------------- recordings


@dataclass(frozen=True)
class InlineImage:
    mime_type: str
    data: bytes
    # Which spelling the client used: "mimeType" or "mime_type".
    mime_key: str


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    version: str
    model: str
    action: str
    headers: Mapping[str, str]
    body: Any
    kind: str
    received_at: float
    status: int = 0

    @property
    def api_key(self) -> str | None:
        return self.headers.get("x-goog-api-key")

    @property
    def parts(self) -> list[dict[str, Any]]:
        body = self.body if isinstance(self.body, dict) else {}
        return [
            part
            for content in body.get("contents") or []
            if isinstance(content, dict)
            for part in content.get("parts") or []
            if isinstance(part, dict)
        ]

    @property
    def texts(self) -> list[str]:
        return [p["text"] for p in self.parts if isinstance(p.get("text"), str)]

    @property
    def prompt(self) -> str:
        """The first text part: what the adapters put the user's prompt in."""
        texts = self.texts
        return texts[0] if texts else ""

    @property
    def images(self) -> list[InlineImage]:
        return [image for part in self.parts if (image := _inline_image(part)) is not None]

    @property
    def system_instruction(self) -> str | None:
        body = self.body if isinstance(self.body, dict) else {}
        instruction = body.get("systemInstruction") or body.get("system_instruction")
        if not isinstance(instruction, dict):
            return None
        texts = [p.get("text", "") for p in instruction.get("parts") or [] if isinstance(p, dict)]
        return "\n".join(texts)

    @property
    def generation_config(self) -> dict[str, Any]:
        body = self.body if isinstance(self.body, dict) else {}
        config = body.get("generationConfig") or body.get("generation_config") or {}
        return config if isinstance(config, dict) else {}

    @property
    def response_modalities(self) -> list[str]:
        return [
            str(m).upper() for m in proto_field(self.generation_config, "responseModalities") or []
        ]

    @property
    def aspect_ratio(self) -> str | None:
        image_config = proto_field(self.generation_config, "imageConfig") or {}
        value = proto_field(image_config, "aspectRatio")
        return value if isinstance(value, str) else None

    @property
    def image_size(self) -> str | None:
        image_config = proto_field(self.generation_config, "imageConfig") or {}
        value = proto_field(image_config, "imageSize")
        return value if isinstance(value, str) else None

    @property
    def thinking_config(self) -> dict[str, Any]:
        value = proto_field(self.generation_config, "thinkingConfig")
        return value if isinstance(value, dict) else {}

    @property
    def response_mime_type(self) -> str | None:
        value = proto_field(self.generation_config, "responseMimeType")
        return value if isinstance(value, str) else None

    @property
    def response_schema(self) -> dict[str, Any] | None:
        config = self.generation_config
        value = proto_field(config, "responseSchema") or proto_field(config, "responseJsonSchema")
        return value if isinstance(value, dict) else None


# ----------------------------------------------------------------------------- model families


@dataclass(frozen=True)
class ImageFamily:
    """How a Gemini image model behaves: its sizes (imageSize -> ratio -> pixels), whether it
    takes an imageSize at all, and whether it thinks (answers with thoughts and interim images)."""

    sizes: dict[str, dict[str, tuple[int, int]]]
    takes_image_size: bool
    thinks: bool

    def output_tokens(self, size: str) -> int:
        return GEMINI_3_OUTPUT_TOKENS[size] if self.thinks else OUTPUT_IMAGE_TOKENS


def image_family(model: str) -> ImageFamily:
    """Gemini 2.x image models: 10 ratios at 1K, no imageSize; 3.x and later: Pro 10 ratios at
    1K/2K/4K, Flash 14 ratios at 512/1K/2K/4K."""
    match = re.match(r"gemini-(\d+)", model)
    if match is None or int(match.group(1)) < 3:
        return ImageFamily({"1K": dict(GEMINI_25_SIZES)}, takes_image_size=False, thinks=False)
    pro = "-pro-" in f"{model}-"
    ratios = list(GEMINI_3_1K)[:10] if pro else list(GEMINI_3_1K)
    sizes = ("1K", "2K", "4K") if pro else ("512", "1K", "2K", "4K")
    table = {
        size: {
            r: (
                round(GEMINI_3_1K[r][0] * GEMINI_3_SCALE[size]),
                round(GEMINI_3_1K[r][1] * GEMINI_3_SCALE[size]),
            )
            for r in ratios
        }
        for size in sizes
    }
    return ImageFamily(table, takes_image_size=True, thinks=True)


def _makes_images(model: str) -> bool:
    return "image" in model.split("-")


# ----------------------------------------------------------------------------- the server


class GeminiServer:
    """The app plus its recordings and queued behaviours; thread-safe (uvicorn runs aside)."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        model_version: str | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        self.api_key = api_key
        # Overrides `modelVersion` in answers (default: the requested model id).
        self.model_version = model_version
        # What models.list answers; any other model is a 404, like a retired one.
        self.models: tuple[str, ...] = models
        # The largest page models.list gives, whatever pageSize asks (Google's is 1000).
        self.max_page_size = MAX_PAGE_SIZE
        # False: no models.list (404), like a gateway that only forwards generateContent.
        self.lists_models = True
        self.base_url = ""
        self._lock = threading.Lock()
        self._queues: dict[str | None, deque[Behaviour]] = {}
        self._requests: list[RecordedRequest] = []
        # reset() bumps the epoch; answers to requests from an earlier epoch are not recorded.
        self._epoch = 0
        self._closing = threading.Event()
        self.app = Starlette(
            routes=[
                Route("/{version}/models", self._dispatch, methods=["GET"]),
                Route("/{version}/models/{target}", self._dispatch, methods=["GET", "POST"]),
            ]
        )

    # -- test-facing API

    def queue(self, *behaviours: Behaviour, kind: Kind | None = None) -> None:
        """Answer the next requests (of `kind`, or of any kind) with these behaviours, in order.

        kinds: "image" (responseModalities has IMAGE), "enhance" (schema has enhancedPrompt),
        "analyze" (schema has focalPoint), "text" (anything else). A request takes from its
        kind's queue first, then from the any-kind queue, else succeeds.
        """
        with self._lock:
            self._queues.setdefault(kind, deque()).extend(behaviours)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_of(self, kind: Kind) -> list[RecordedRequest]:
        return [r for r in self.requests if r.kind == kind]

    @property
    def last_request(self) -> RecordedRequest:
        requests = self.requests
        assert requests, "the Gemini test server has received no request"
        return requests[-1]

    def set_models(self, *models: str) -> None:
        """Change what models.list answers (and which models exist); `reset()` restores it."""
        with self._lock:
            self.models = tuple(models)

    def settings_overrides(self, **extra: Any) -> dict[str, Any]:
        """`Settings(**server.settings_overrides())`: point Banatie's Gemini adapters here, with
        fast retries (base 10 ms) and a short timeout suited to tests."""
        return {
            "gemini_api_key": self.api_key,
            "gemini_base_url": self.base_url,
            "gemini_api_version": "v1beta",
            "gemini_timeout_seconds": 5.0,
            "gemini_max_retries": 2,
            "gemini_retry_base_seconds": 0.01,
            **extra,
        }

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def reset(self) -> None:
        """Forget queued behaviours and recordings (requests still in flight stay unrecorded)."""
        with self._lock:
            self._epoch += 1
            self._queues.clear()
            self._requests.clear()
            self.model_version = None
            self.models = DEFAULT_MODELS
            self.max_page_size = MAX_PAGE_SIZE
            self.lists_models = True

    # -- request handling

    def _next_behaviour(self, kind: str) -> Behaviour:
        with self._lock:
            for key in (kind, None):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        return Succeed()

    async def _dispatch(self, request: Request) -> Response:
        with self._lock:
            epoch = self._epoch
        version = request.path_params["version"]
        target = request.path_params.get("target")
        model, _, action = (target or "").partition(":")
        raw = await request.body()
        body: Any = None
        body_error: str | None = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                body_error = f"Invalid JSON payload received. {exc}"
        kind = "list" if target is None else _classify(body) if request.method == "POST" else "text"
        record = RecordedRequest(
            method=request.method,
            path=request.url.path,
            version=version,
            model=model,
            action=action,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            kind=kind,
            received_at=time.monotonic(),
        )
        response = await self._answer(request, record, body_error)
        with self._lock:
            if epoch == self._epoch:
                self._requests.append(_with_status(record, response.status_code))
        return response

    async def _answer(
        self, request: Request, record: RecordedRequest, body_error: str | None
    ) -> Response:
        key = record.api_key
        if not key:
            return rpc_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        if key != self.api_key:
            return rpc_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                    }
                ],
            )
        if record.kind == "list":
            if not self.lists_models:
                return rpc_error(404, "NOT_FOUND", "Method not found.")
            return self._list_models(request)
        if record.model not in self.models:
            return rpc_error(
                404,
                "NOT_FOUND",
                f"models/{record.model} is not found for API version {record.version}, or is not "
                "supported for generateContent. Call ListModels to see the list of available "
                "models and their supported methods.",
            )
        if request.method == "GET" and not record.action:
            return JSONResponse(_model_info(record.model))
        if request.method != "POST" or record.action != "generateContent":
            return rpc_error(404, "NOT_FOUND", f"Method {record.action or 'GET'} not found.")
        if body_error is not None:
            return rpc_error(400, "INVALID_ARGUMENT", body_error)
        invalid = _validate(record)
        if invalid is not None:
            return rpc_error(400, "INVALID_ARGUMENT", invalid)
        behaviour = self._next_behaviour(record.kind)
        return await self._behave(request, record, behaviour)

    def _list_models(self, request: Request) -> Response:
        """`GET /{version}/models?pageSize=&pageToken=`: a page of models and the next token."""
        try:
            size = int(request.query_params.get("pageSize") or DEFAULT_PAGE_SIZE)
            token = request.query_params.get("pageToken") or ""
            start = int(base64.urlsafe_b64decode(token.encode()).decode() or 0) if token else 0
        except ValueError:
            return rpc_error(400, "INVALID_ARGUMENT", "Invalid page token or page size.")
        size = max(1, min(size, self.max_page_size))
        with self._lock:
            models = self.models
        page = models[start : start + size]
        body: dict[str, Any] = {"models": [_model_info(model) for model in page]}
        if start + size < len(models):
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return JSONResponse(body)

    async def _behave(
        self, request: Request, record: RecordedRequest, behaviour: Behaviour
    ) -> Response:
        model_version = self.model_version or record.model
        if isinstance(behaviour, Slow):
            deadline = time.monotonic() + behaviour.seconds
            while time.monotonic() < deadline and not self._closing.is_set():
                if await request.is_disconnected():
                    break
                await asyncio.sleep(0.02)
            return await self._behave(request, record, behaviour.then)
        if isinstance(behaviour, RateLimit):
            details: list[dict[str, Any]] = [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                            "quotaDimensions": {"location": "global", "model": record.model},
                            "quotaValue": "10",
                        }
                    ],
                },
                {
                    "@type": "type.googleapis.com/google.rpc.Help",
                    "links": [
                        {
                            "description": "Learn more about Gemini API quotas",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                        }
                    ],
                },
            ]
            if behaviour.retry_delay is not None:
                details.append(
                    {
                        "@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": behaviour.retry_delay,
                    }
                )
            return rpc_error(429, "RESOURCE_EXHAUSTED", behaviour.message, details=details)
        if isinstance(behaviour, ServerFailure):
            if behaviour.status == 503:
                return rpc_error(503, "UNAVAILABLE", "The model is overloaded. Please try later.")
            return rpc_error(
                behaviour.status,
                "INTERNAL",
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting",
            )
        if isinstance(behaviour, ClientFailure):
            return rpc_error(behaviour.status, behaviour.status_name, behaviour.message)
        if isinstance(behaviour, DeadlineExceeded):
            return rpc_error(
                504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."
            )
        if isinstance(behaviour, Malformed):
            return Response(
                behaviour.body, status_code=behaviour.status, media_type=behaviour.content_type
            )
        if isinstance(behaviour, BlockPrompt):
            return JSONResponse(
                {
                    "promptFeedback": {
                        "blockReason": behaviour.reason,
                        "safetyRatings": _safety_ratings(blocked=behaviour.reason == "SAFETY"),
                    },
                    "usageMetadata": _usage(record, output_tokens=0),
                    "modelVersion": model_version,
                    "responseId": _response_id(record),
                }
            )
        if isinstance(behaviour, FinishWithoutImage):
            candidate: dict[str, Any] = {"finishReason": behaviour.reason, "index": 0}
            if behaviour.text is not None:
                candidate["content"] = {"role": "model", "parts": [{"text": behaviour.text}]}
            if behaviour.finish_message is not None:
                candidate["finishMessage"] = behaviour.finish_message
            return _candidate_response(record, candidate, model_version, output_tokens=0)
        if isinstance(behaviour, JsonText):
            text = (
                behaviour.payload
                if isinstance(behaviour.payload, str)
                else json.dumps(behaviour.payload)
            )
            return _text_response(record, text, model_version)
        if isinstance(behaviour, ImageReply):
            return _image_response(record, behaviour.data, behaviour.mime_type, model_version)
        # Succeed
        if record.kind == "image":
            return _generated_image(record, model_version)
        return _text_response(record, _default_text(record), model_version)


class RecordingSleep:
    """Stands in for asyncio.sleep in the retry loop: records each backoff, barely waits."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


# ----------------------------------------------------------------------------- running it


@contextlib.contextmanager
def running_gemini_server(
    *,
    api_key: str = "test-key",
    model_version: str | None = None,
    models: tuple[str, ...] = DEFAULT_MODELS,
) -> Iterator[GeminiServer]:
    """Serve a `GeminiServer` on 127.0.0.1 (free port) in a background thread."""
    server = GeminiServer(api_key=api_key, model_version=model_version, models=models)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        server.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(
        target=uv.run, kwargs={"sockets": [sock]}, name="gemini-test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the Gemini test server did not start")
        time.sleep(0.01)
    server.base_url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        server._closing.set()
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def http_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The HTTP backend google-genai uses in this test: "httpx" (its default, and Banatie's, as
    aiohttp is no dependency) unless parametrized indirectly with "aiohttp", which the SDK
    switches to whenever aiohttp is importable. Request it before any client is made."""
    backend: str = getattr(request, "param", "httpx")
    monkeypatch.setattr(genai_api_client, "has_aiohttp", backend == "aiohttp")
    return backend


@pytest.fixture(scope="session")
def gemini_server_session() -> Iterator[GeminiServer]:
    with running_gemini_server() as server:
        yield server


@pytest.fixture
def gemini_server(gemini_server_session: GeminiServer) -> Iterator[GeminiServer]:
    """The session's server, reset before and after each test. Register the fixtures in a
    conftest.py with:

    from tests.support.gemini_server import (  # noqa: F401
        gemini_server, gemini_server_session, http_backend
    )
    """
    gemini_server_session.reset()
    yield gemini_server_session
    gemini_server_session.reset()


# ----------------------------------------------------------------------------- helpers


def rpc_error(
    status: int, status_name: str, message: str, *, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    """A google.rpc.Status error body as the Gemini API sends it."""
    error: dict[str, Any] = {"code": status, "message": message, "status": status_name}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


def render_png(
    aspect_ratio: str, prompt: str = "", *, size: tuple[int, int] | None = None
) -> bytes:
    """A real PNG of Gemini 2.5's size for `aspect_ratio` (or of `size`): a prompt-seeded
    gradient and a subject."""
    width, height = size or GEMINI_25_SIZES[aspect_ratio]
    seed = hashlib.sha256(prompt.encode()).digest()
    xyz = pyvips.Image.xyz(width, height)
    red = xyz[0] * (seed[0] / 255 / width * 0.6) + 40
    green = xyz[1] * (seed[1] / 255 / height * 0.6) + 40
    blue = (xyz[0] + xyz[1]) * (seed[2] / 255 / (width + height) * 0.6) + 40
    image = red.bandjoin([green, blue]).cast("uchar")
    # A bright "subject" square at a prompt-dependent spot, so attention/focal points move.
    side = min(width, height) // 4
    left = int((width - side) * (0.2 + 0.6 * seed[3] / 255))
    top = int((height - side) * (0.2 + 0.6 * seed[4] / 255))
    image = image.draw_rect([240, 220, 60], left, top, side, side, fill=True)
    data: bytes = image.write_to_buffer(".png", compression=1)
    return data


def proto_field(mapping: Any, camel: str) -> Any:
    """Read a proto3-JSON field by its lowerCamelCase or its snake_case name."""
    if not isinstance(mapping, dict):
        return None
    if camel in mapping:
        return mapping[camel]
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
    return mapping.get(snake)


def _inline_image(part: dict[str, Any]) -> InlineImage | None:
    blob = part.get("inlineData", part.get("inline_data"))
    if not isinstance(blob, dict):
        return None
    mime_key = "mimeType" if "mimeType" in blob else "mime_type"
    mime = blob.get(mime_key)
    data = decode_bytes(blob.get("data"))
    return InlineImage(mime_type=str(mime), data=data, mime_key=mime_key)


def decode_bytes(value: Any) -> bytes:
    """proto3 JSON `bytes`: standard or URL-safe base64, padded or not (b"" when invalid)."""
    if not isinstance(value, str) or not value:
        return b""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _with_status(record: RecordedRequest, status: int) -> RecordedRequest:
    return dataclasses.replace(record, status=status)


def _schema_properties(body: Any) -> set[str]:
    if not isinstance(body, dict):
        return set()
    config = proto_field(body, "generationConfig") or {}
    schema = (
        proto_field(config, "responseSchema") or proto_field(config, "responseJsonSchema") or {}
    )
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return set(properties) if isinstance(properties, dict) else set()


def _classify(body: Any) -> str:
    config = proto_field(body, "generationConfig") if isinstance(body, dict) else None
    modalities = [str(m).upper() for m in proto_field(config, "responseModalities") or []]
    if "IMAGE" in modalities:
        return "image"
    properties = _schema_properties(body)
    if "enhancedPrompt" in properties:
        return "enhance"
    if "focalPoint" in properties:
        return "analyze"
    return "text"


def _validate(record: RecordedRequest) -> str | None:
    """Google's 400 INVALID_ARGUMENT checks for what the adapters send."""
    body = record.body
    if not isinstance(body, dict):
        return "Invalid JSON payload received. Expected an object."
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for part in record.parts:
        if "inlineData" in part or "inline_data" in part:
            image = _inline_image(part)
            assert image is not None
            if image.mime_type in ("None", ""):
                return "* GenerateContentRequest.contents.parts.inline_data.mime_type: required"
            if not image.data:
                return "Invalid value at 'contents.parts.inline_data.data' (TYPE_BYTES)"
            if image.mime_type.startswith("image/") and image.mime_type not in SUPPORTED_INPUT_MIME:
                return f"Unsupported MIME type: {image.mime_type}"
    thinking = record.thinking_config
    level, budget = proto_field(thinking, "thinkingLevel"), proto_field(thinking, "thinkingBudget")
    if level is not None and budget is not None:
        return "Unable to submit request because thinking_budget and thinking_level are not supported together."
    if level is not None and re.match(r"gemini-[012]\.", record.model):
        return "Thinking level is not supported for this model."
    if budget == 0 and "-pro" in record.model:
        return "Budget 0 is invalid. This model only works in thinking mode."
    if record.kind == "image" and not _makes_images(record.model):
        return f"Model {record.model} does not support the requested response modalities: image"
    if not _makes_images(record.model):
        return None
    if record.system_instruction is not None:
        return f"Developer instruction is not enabled for models/{record.model}"
    family = image_family(record.model)
    size = record.image_size
    if size is not None and not family.takes_image_size:
        return f"imageSize is not supported by models/{record.model}"
    if size is not None and size not in family.sizes:
        return f"Unsupported image size: {size}. Supported: {', '.join(family.sizes)}"
    ratio = record.aspect_ratio
    if ratio is not None and ratio not in family.sizes[size or "1K"]:
        return f"Unsupported aspect ratio: {ratio}"
    return None


def _usage(record: RecordedRequest, *, output_tokens: int, thoughts: int = 0) -> dict[str, Any]:
    text_tokens = sum(max(1, len(t.split()) * 4 // 3) for t in record.texts)
    system = record.system_instruction
    if system:
        text_tokens += max(1, len(system.split()) * 4 // 3)
    image_tokens = INPUT_IMAGE_TOKENS * len(record.images)
    prompt_tokens = text_tokens + image_tokens
    details = [{"modality": "TEXT", "tokenCount": text_tokens}]
    if image_tokens:
        details.append({"modality": "IMAGE", "tokenCount": image_tokens})
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": prompt_tokens + output_tokens + thoughts,
        "promptTokensDetails": details,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def _response_id(record: RecordedRequest) -> str:
    return hashlib.sha1(f"{record.received_at}{record.path}".encode()).hexdigest()[:22]


def _candidate_response(
    record: RecordedRequest,
    candidate: dict[str, Any],
    model_version: str,
    *,
    output_tokens: int,
    thoughts: int = 0,
) -> JSONResponse:
    return JSONResponse(
        {
            "candidates": [candidate],
            "usageMetadata": _usage(record, output_tokens=output_tokens, thoughts=thoughts),
            "modelVersion": model_version,
            "responseId": _response_id(record),
        }
    )


def _generated_image(record: RecordedRequest, model_version: str) -> JSONResponse:
    """The image of the model's size for the request's ratio and imageSize. Thinking (3.x)
    models answer the way they do on the service: a thought, an interim thought image, a line
    of text, then the final image carrying a thought signature."""
    family = image_family(record.model)
    size = record.image_size or "1K"
    ratio = record.aspect_ratio or "1:1"
    image = render_png(ratio, record.prompt, size=family.sizes[size][ratio])
    if not family.thinks:
        return _image_response(record, image, "image/png", model_version)
    interim = render_png("1:1", "interim " + record.prompt, size=(256, 256))
    parts = [
        {"text": "**Composing the scene**\n\nPlacing the subject first.", "thought": True},
        {"inlineData": {"mimeType": "image/png", "data": _b64(interim)}, "thought": True},
        {"text": "Here is the image you asked for."},
        {
            "inlineData": {"mimeType": "image/png", "data": _b64(image)},
            "thoughtSignature": _b64(hashlib.sha256(image).digest()),
        },
    ]
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    tokens = family.output_tokens(size)
    return _candidate_response(
        record, candidate, model_version, output_tokens=tokens, thoughts=THOUGHT_TOKENS
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _image_response(
    record: RecordedRequest, data: bytes, mime_type: str, model_version: str
) -> JSONResponse:
    candidate = {
        "content": {
            "role": "model",
            "parts": [
                {"inlineData": {"mimeType": mime_type, "data": base64.b64encode(data).decode()}}
            ],
        },
        "finishReason": "STOP",
        "index": 0,
    }
    return _candidate_response(record, candidate, model_version, output_tokens=OUTPUT_IMAGE_TOKENS)


def _text_response(record: RecordedRequest, text: str, model_version: str) -> JSONResponse:
    candidate = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "finishReason": "STOP",
        "index": 0,
    }
    tokens = max(1, len(text.split()) * 4 // 3)
    return _candidate_response(record, candidate, model_version, output_tokens=tokens)


def _default_text(record: RecordedRequest) -> str:
    if record.kind == "enhance":
        return json.dumps(_enhancement(record.prompt))
    if record.kind == "analyze":
        return json.dumps(_analysis(record))
    if record.response_mime_type == "application/json":
        return json.dumps(_fill_schema(record.response_schema or {"type": "OBJECT"}))
    return "OK"


_LANGUAGE_HINTS: tuple[tuple[str, str], ...] = (
    (r"[\u0400-\u04ff]", "ru"),
    (r"[\u3040-\u30ff]", "ja"),
    (r"[\u4e00-\u9fff]", "zh"),
    (r"[\u0600-\u06ff]", "ar"),
    (r"\b(el|la|los|las|una|con|del)\b", "es"),
    (r"\b(le|les|une|avec|des|dans)\b", "fr"),
    (r"\b(der|die|das|und|mit|ein|eine)\b", "de"),
)


def _enhancement(prompt: str) -> dict[str, str]:
    language = next(
        (code for pattern, code in _LANGUAGE_HINTS if re.search(pattern, prompt.lower())), "en"
    )
    enhanced = (
        f"A carefully composed, high-detail image of {prompt.strip()}, described as a scene: "
        "soft natural light falls across the subject, the background is gently blurred, and the "
        "colours are rich but balanced."
    )
    return {
        "enhancedPrompt": enhanced,
        "detectedLanguage": language,
        "rationale": "Rewrote the keywords as a narrative scene with lighting and composition.",
    }


def _analysis(record: RecordedRequest) -> dict[str, Any]:
    size = ""
    images = record.images
    if images:
        try:
            header = pyvips.Image.new_from_buffer(images[0].data, "")
            size = f" ({header.width}x{header.height})"
        except pyvips.Error:
            size = ""
    return {
        "focalPoint": [410, 620],  # [y, x] in 0..1000
        "altText": "A bright yellow square on a softly graded background",
        "description": f"A simple abstract composition with one bright subject{size}.",
        "tags": ["abstract", "yellow", "square", "gradient"],
    }


def _fill_schema(schema: dict[str, Any]) -> Any:
    kind = str(schema.get("type", "OBJECT")).upper()
    if kind == "OBJECT":
        properties = schema.get("properties") or {}
        return {name: _fill_schema(sub) for name, sub in properties.items()}
    if kind == "ARRAY":
        return [_fill_schema(schema.get("items") or {"type": "STRING"})]
    if kind in ("NUMBER", "INTEGER"):
        return 0
    if kind == "BOOLEAN":
        return False
    return "text"


def _safety_ratings(*, blocked: bool) -> list[dict[str, Any]]:
    categories = (
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
    )
    return [
        {
            "category": category,
            "probability": "HIGH" if blocked and i == 0 else "NEGLIGIBLE",
            **({"blocked": True} if blocked and i == 0 else {}),
        }
        for i, category in enumerate(categories)
    ]


def _model_info(model: str) -> dict[str, Any]:
    if model.startswith("imagen-"):
        methods = ["predict"]
    elif "embedding" in model:
        methods = ["embedContent", "countTextTokens", "countTokens"]
    else:
        methods = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": model,
        "inputTokenLimit": 32768,
        "outputTokenLimit": 32768,
        "supportedGenerationMethods": methods,
    }
