"""Gemini adapters of the provider ports (issue 3), all on the real `google-genai` client.

- `GeminiSynthesizer(settings, *, client=None)`: `ImageSynthesizer` on the resolved image model.
- `GeminiEnhancer(settings, *, client=None)`: `PromptEnhancer` on the resolved text model.
- `GeminiAnalyzer(settings, fallback, *, client=None, max_retries=0)`: `AssetAnalyzer` that merges
  Gemini vision over the `fallback` (local) analysis.
- `GeminiClient(settings)`: the shared google-genai client, model resolver (`client.models`),
  retry policy and error mapping.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from banatie.providers.gemini.analyzer import GeminiAnalyzer
    from banatie.providers.gemini.client import GeminiClient
    from banatie.providers.gemini.enhancer import GeminiEnhancer
    from banatie.providers.gemini.synthesizer import GeminiSynthesizer

__all__ = ["GeminiAnalyzer", "GeminiClient", "GeminiEnhancer", "GeminiSynthesizer"]

_MODULES = {
    "GeminiAnalyzer": "analyzer",
    "GeminiClient": "client",
    "GeminiEnhancer": "enhancer",
    "GeminiSynthesizer": "synthesizer",
}


def __getattr__(name: str) -> Any:
    """The adapters load on first use: google-genai costs ~1 s and ~40 MB per process, which a
    server without a Gemini key (or one that only reads a table here, as MCP's ratios do) never
    needs."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
