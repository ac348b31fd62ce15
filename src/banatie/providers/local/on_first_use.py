"""The embedded adapters as a server holds them: their pixel code (numpy, the picture tables;
~20 MB and 0.1-0.2 s per process) is imported by the first generation or analysis of a
process, in a thread, not at start. A worker that only delivers images never loads it; with a
Gemini key, the local analyzer is only Gemini's fallback."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from banatie.imaging.pool import CpuPool
from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.local.model import LOCAL_CAPABILITIES
from banatie.providers.ports import (
    AnalysisRequest,
    AssetAnalysis,
    AssetAnalyzer,
    ImageSynthesizer,
    SynthesisRequest,
    SynthesizedImage,
)


async def _load(module: str, name: str, cpu: CpuPool) -> Any:
    loaded = await asyncio.to_thread(importlib.import_module, module)
    return getattr(loaded, name)(cpu=cpu)


class LocalSynthesizerOnFirstUse:
    name = "local"

    def __init__(self, cpu: CpuPool) -> None:
        self.cpu = cpu
        self._loaded: ImageSynthesizer | None = None

    async def capabilities(self) -> ImageCapabilities:
        return LOCAL_CAPABILITIES

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        if self._loaded is None:
            module = "banatie.providers.local.synthesizer"
            self._loaded = await _load(module, "LocalSynthesizer", self.cpu)
        return await self._loaded.synthesize(request)


class LocalAnalyzerOnFirstUse:
    name = "local"

    def __init__(self, cpu: CpuPool) -> None:
        self.cpu = cpu
        self._loaded: AssetAnalyzer | None = None

    async def analyze(self, request: AnalysisRequest) -> AssetAnalysis:
        if self._loaded is None:
            module = "banatie.providers.local.analyzer"
            self._loaded = await _load(module, "LocalAnalyzer", self.cpu)
        return await self._loaded.analyze(request)
