"""Gemini adapters of the provider ports (issue 3), all on the real `google-genai` client.

- `GeminiSynthesizer(settings, *, client=None)`: `ImageSynthesizer` on `gemini_image_model`.
- `GeminiEnhancer(settings, *, client=None)`: `PromptEnhancer` on `gemini_text_model`.
- `GeminiAnalyzer(settings, fallback, *, client=None, max_retries=0)`: `AssetAnalyzer` that merges
  Gemini vision over the `fallback` (local) analysis.
- `GeminiClient(settings)`: the shared google-genai client, retry policy and error mapping.
"""

from banatie.providers.gemini.analyzer import GeminiAnalyzer
from banatie.providers.gemini.client import GeminiClient
from banatie.providers.gemini.enhancer import GeminiEnhancer
from banatie.providers.gemini.synthesizer import GeminiSynthesizer

__all__ = ["GeminiAnalyzer", "GeminiClient", "GeminiEnhancer", "GeminiSynthesizer"]
