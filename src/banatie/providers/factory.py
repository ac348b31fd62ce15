"""Choose the provider adapters once, from settings: Gemini with a key, embedded without.

With a key the three Gemini adapters share one `GeminiClient` (one HTTP connection pool, one
retry policy); `Providers.aclose()` closes it, and `Runtime.close()` calls that on shutdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from banatie.imaging.pool import CpuPool
from banatie.providers.ports import AssetAnalyzer, ImageSynthesizer, PromptEnhancer
from banatie.settings import Settings

if TYPE_CHECKING:
    from banatie.providers.gemini.client import GeminiClient


@dataclass(frozen=True)
class Providers:
    synthesizer: ImageSynthesizer
    enhancer: PromptEnhancer
    analyzer: AssetAnalyzer
    # The client shared by the Gemini adapters (None with the embedded ones).
    gemini: GeminiClient | None = None

    def start(self) -> None:
        """At start-up: resolve the Gemini models in the background, so the log says which."""
        if self.gemini is not None:
            self.gemini.models.warm_up()

    async def aclose(self) -> None:
        if self.gemini is not None:
            await self.gemini.aclose()


def make_providers(settings: Settings, cpu: CpuPool | None = None) -> Providers:
    """`cpu`: the pool the embedded adapters do pixel work in (the runtime's)."""
    from banatie.providers.local.enhancer import RuleBasedEnhancer
    from banatie.providers.local.on_first_use import (
        LocalAnalyzerOnFirstUse,
        LocalSynthesizerOnFirstUse,
    )

    cpu = cpu or CpuPool(settings.cpu_workers)
    # The embedded adapters load their pixel code (numpy) with their first call.
    local_analyzer = LocalAnalyzerOnFirstUse(cpu)
    if not settings.gemini_api_key:
        return Providers(LocalSynthesizerOnFirstUse(cpu), RuleBasedEnhancer(), local_analyzer)

    from banatie.providers.gemini.analyzer import GeminiAnalyzer
    from banatie.providers.gemini.client import GeminiClient
    from banatie.providers.gemini.enhancer import GeminiEnhancer
    from banatie.providers.gemini.synthesizer import GeminiSynthesizer

    client = GeminiClient(settings)
    return Providers(
        GeminiSynthesizer(settings, client=client),
        GeminiEnhancer(settings, client=client),
        GeminiAnalyzer(
            settings,
            fallback=local_analyzer,
            client=client,
            timeout_seconds=settings.gemini_analyzer_timeout_seconds,
        ),
        gemini=client,
    )
