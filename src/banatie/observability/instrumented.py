"""The ports as the rest of the server sees them: each adapter wrapped once (in
`runtime.build_runtime`) so that every call is timed, its failures counted by code, and (with
tracing on) recorded as a span. The wrappers add nothing else: same results, same errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable
from datetime import datetime
from typing import Any, TypeVar

from banatie.observability import metrics
from banatie.observability.tracing import Tracing
from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.errors import ProviderError
from banatie.providers.ports import (
    AnalysisRequest,
    AssetAnalysis,
    AssetAnalyzer,
    EnhancedPrompt,
    EnhancementRequest,
    ImageSynthesizer,
    PromptEnhancer,
    SynthesisRequest,
    SynthesizedImage,
)
from banatie.storage.base import BlobInfo, BlobNotFound, BlobStore, StoredBlob

T = TypeVar("T")


async def _stage(tracing: Tracing, stage: str, adapter: str, call: Awaitable[T]) -> T:
    started = time.perf_counter()
    outcome = "error"
    try:
        with tracing.span(f"banatie.{stage}", {"banatie.adapter": adapter}):
            result = await call
        outcome = "ok"
        return result
    except ProviderError as exc:
        metrics.PROVIDER_ERRORS.labels(stage, adapter, exc.code).inc()
        raise
    finally:
        metrics.stage_finished(stage, adapter, outcome, time.perf_counter() - started)


class _Wrapper:
    """A transparent proxy: anything the port does not declare (an adapter's client, its
    settings) is the inner adapter's, and `isinstance(wrapper, LocalBlobStore)` holds as it
    does for the adapter (what `mock` and `wrapt` proxies do), so code that asks which
    adapter runs still gets its answer."""

    def __init__(self, inner: Any, tracing: Tracing) -> None:
        self.inner = inner
        self.tracing = tracing
        self.name: str = inner.name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.inner, attribute)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self.inner)


class MeasuredSynthesizer(_Wrapper):
    inner: ImageSynthesizer

    async def capabilities(self) -> ImageCapabilities:
        return await self.inner.capabilities()

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        return await _stage(self.tracing, "synthesize", self.name, self.inner.synthesize(request))


class MeasuredEnhancer(_Wrapper):
    inner: PromptEnhancer

    async def enhance(self, request: EnhancementRequest) -> EnhancedPrompt:
        return await _stage(self.tracing, "enhance", self.name, self.inner.enhance(request))


class MeasuredAnalyzer(_Wrapper):
    inner: AssetAnalyzer

    async def analyze(self, request: AnalysisRequest) -> AssetAnalysis:
        return await _stage(self.tracing, "analyze", self.name, self.inner.analyze(request))


async def _storage(tracing: Tracing, operation: str, call: Awaitable[T]) -> T:
    started = time.perf_counter()
    outcome = "error"
    try:
        if tracing.enabled:
            with tracing.span(f"storage.{operation}"):
                result = await call
        else:  # the hot path of /cdn and live hits: no context manager when tracing is off
            result = await call
        outcome = "ok"
        return result
    except BlobNotFound:
        outcome = "not_found"
        raise
    finally:
        metrics.STORAGE_DURATION.labels(operation, outcome).observe(time.perf_counter() - started)


class MeasuredBlobStore(_Wrapper):
    inner: BlobStore

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await _storage(self.tracing, "put", self.inner.put(key, data, content_type))

    async def get(self, key: str) -> bytes:
        return await _storage(self.tracing, "get", self.inner.get(key))

    async def head(self, key: str) -> BlobInfo | None:
        return await _storage(self.tracing, "head", self.inner.head(key))

    async def delete(self, key: str) -> None:
        await _storage(self.tracing, "delete", self.inner.delete(key))

    async def delete_prefix(self, prefix: str) -> int:
        return await _storage(self.tracing, "delete_prefix", self.inner.delete_prefix(prefix))

    def list_blobs(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncIterator[list[StoredBlob]]:
        return self.inner.list_blobs(prefix, page_size=page_size)

    async def remove_leftovers(self, before: datetime) -> int:
        return await self.inner.remove_leftovers(before)

    async def close(self) -> None:
        await self.inner.close()
