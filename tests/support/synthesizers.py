"""Stand-ins for the `ImageSynthesizer` port, for tests about what happens around it."""

from __future__ import annotations

import asyncio

from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.errors import ProviderError
from banatie.providers.local.synthesizer import LOCAL_CAPABILITIES
from banatie.providers.ports import SynthesisRequest, SynthesizedImage


class FailingSynthesizer:
    """Every synthesis fails like a provider outage (after `delay` seconds); requests are
    validated against the local synthesizer's row."""

    name = "broken"

    def __init__(self, message: str = "model down", *, delay: float = 0.0) -> None:
        self.message = message
        self.delay = delay

    async def capabilities(self) -> ImageCapabilities:
        return LOCAL_CAPABILITIES

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        await asyncio.sleep(self.delay)
        raise ProviderError(self.message)


class HeldSynthesizer:
    """Holds every synthesis until `release()` (then draws like `inner`): a generation stays in
    flight for as long as a test needs, e.g. to kill its process."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "held")
        self.started = 0
        self._released = asyncio.Event()

    async def capabilities(self) -> ImageCapabilities:
        return await self.inner.capabilities()  # type: ignore[attr-defined, no-any-return]

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        self.started += 1
        await self._released.wait()
        return await self.inner.synthesize(request)  # type: ignore[attr-defined, no-any-return]

    def release(self) -> None:
        self._released.set()


class FlakySynthesizer:
    """Fails the first `failures` syntheses with `error` (a provider outage by default), then
    draws like `inner`: a transient failure that a retry gets past."""

    def __init__(self, inner: object, failures: int, error: ProviderError | None = None) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "flaky")
        self.failures = failures
        self.error = error or ProviderError("the model is overloaded")
        self.calls = 0

    async def capabilities(self) -> ImageCapabilities:
        return await self.inner.capabilities()  # type: ignore[attr-defined, no-any-return]

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return await self.inner.synthesize(request)  # type: ignore[attr-defined, no-any-return]
