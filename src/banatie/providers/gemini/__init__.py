"""Gemini adapters of the provider ports (issue 3), all on the real `google-genai` client.

- `GeminiSynthesizer(settings, *, client=None)`: `ImageSynthesizer` on the resolved image model.
- `GeminiEnhancer(settings, *, client=None)`: `PromptEnhancer` on the resolved text model.
- `GeminiAnalyzer(settings, fallback, *, client=None, max_retries=0)`: `AssetAnalyzer` that merges
  Gemini vision over the `fallback` (local) analysis.
- `GeminiClient(settings)`: the shared google-genai client, model resolver (`client.models`),
  retry policy and error mapping.
"""

from banatie.providers.gemini.analyzer import GeminiAnalyzer
from banatie.providers.gemini.client import GeminiClient
from banatie.providers.gemini.enhancer import GeminiEnhancer
from banatie.providers.gemini.synthesizer import GeminiSynthesizer

__all__ = ["GeminiAnalyzer", "GeminiClient", "GeminiEnhancer", "GeminiSynthesizer"]
