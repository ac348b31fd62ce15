"""Choose the provider adapters once, from settings: Gemini with a key, embedded without."""

from __future__ import annotations

from dataclasses import dataclass

from banatie.providers.ports import AssetAnalyzer, ImageSynthesizer, PromptEnhancer
from banatie.settings import Settings


@dataclass(frozen=True)
class Providers:
    synthesizer: ImageSynthesizer
    enhancer: PromptEnhancer
    analyzer: AssetAnalyzer


def make_providers(settings: Settings) -> Providers:
    from banatie.providers.local.analyzer import LocalAnalyzer
    from banatie.providers.local.enhancer import RuleBasedEnhancer
    from banatie.providers.local.synthesizer import LocalSynthesizer

    local_analyzer = LocalAnalyzer()
    if not settings.gemini_api_key:
        return Providers(LocalSynthesizer(), RuleBasedEnhancer(), local_analyzer)

    from banatie.providers.gemini.analyzer import GeminiAnalyzer
    from banatie.providers.gemini.enhancer import GeminiEnhancer
    from banatie.providers.gemini.synthesizer import GeminiSynthesizer

    return Providers(
        GeminiSynthesizer(settings),
        GeminiEnhancer(settings),
        GeminiAnalyzer(settings, fallback=local_analyzer),
    )
