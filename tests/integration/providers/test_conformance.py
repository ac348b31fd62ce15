"""The provider ports' contract, held to every adapter set `make_providers` builds: the embedded
adapters and the Gemini ones (against the wire-format server, through the real google-genai
client). Adapter-specific behaviour is tested beside each adapter (tests/unit/providers/local/,
tests/integration/providers/gemini/)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pyvips

from banatie.providers.errors import (
    ContentBlocked,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    UnsupportedByModel,
)
from banatie.providers.factory import Providers, make_providers
from banatie.providers.ports import (
    AnalysisRequest,
    EnhancementRequest,
    ReferenceImage,
    SynthesisRequest,
)
from banatie.settings import Settings
from tests.support.gemini_server import (
    Behaviour,
    BlockPrompt,
    GeminiServer,
    Kind,
    RateLimit,
    ServerFailure,
    Slow,
    render_png,
)
from tests.support.images import solid_png

MIME_BY_LOADER = {"pngload_buffer": "image/png", "jpegload_buffer": "image/jpeg"}


def settings_for(tmp_path: Path, server: GeminiServer | None, **extra: object) -> Settings:
    """The embedded adapters without a server; Gemini's pointed at it."""
    overrides = server.settings_overrides(**extra) if server else {"gemini_api_key": None}
    return Settings(_env_file=None, data_dir=tmp_path / "var", **overrides)


@pytest.fixture(params=["local", "gemini"])
async def providers(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Providers]:
    server: GeminiServer | None = None
    if request.param == "gemini":
        request.getfixturevalue("http_backend")
        server = request.getfixturevalue("gemini_server")
    made = make_providers(settings_for(tmp_path, server))
    assert made.synthesizer.name == request.param
    yield made
    await made.aclose()


def decoded(data: bytes) -> tuple[int, int, str]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height, MIME_BY_LOADER[image.get("vips-loader")]


async def test_generates_the_size_its_capabilities_promise(providers: Providers) -> None:
    capabilities = await providers.synthesizer.capabilities()
    assert "16:9" in capabilities.aspect_ratios
    made = await providers.synthesizer.synthesize(
        SynthesisRequest("a red fox in fresh snow at dawn", "16:9")
    )
    width, height, mime_type = decoded(made.data)
    assert (width, height) == capabilities.dimensions("16:9", None)
    assert made.mime_type == mime_type
    assert made.model == capabilities.model


async def test_edits_with_reference_images(providers: Providers) -> None:
    logo = ReferenceImage("img_1", render_png("1:1", "logo"), "image/png", alias="@logo")
    style = ReferenceImage("img_2", solid_png(48, 48, (20, 90, 200)), "image/png", role="style")
    made = await providers.synthesizer.synthesize(
        SynthesisRequest("a ceramic mug with @logo printed on it", "1:1", [logo, style])
    )
    capabilities = await providers.synthesizer.capabilities()
    assert decoded(made.data)[:2] == capabilities.dimensions("1:1", None)


async def test_refuses_what_the_model_does_not_offer(providers: Providers) -> None:
    with pytest.raises(UnsupportedByModel) as refused:
        await providers.synthesizer.synthesize(SynthesisRequest("a kite", "7:3"))
    assert refused.value.status == 400 and refused.value.code == "VALIDATION_ERROR"
    reference = ReferenceImage("img", solid_png(8, 8), "image/png")
    with pytest.raises(ValueError):  # the caller's bug: the API never sends four
        await providers.synthesizer.synthesize(SynthesisRequest("a kite", "1:1", [reference] * 4))


async def test_enhances_keeping_aliases(providers: Providers) -> None:
    enhanced = await providers.enhancer.enhance(
        EnhancementRequest(
            "a cat wearing a tiny hat next to @logo",
            template="sticker",
            aspect_ratio="1:1",
            reference_aliases=["@logo"],
        )
    )
    assert enhanced.prompt.strip() and "@logo" in enhanced.prompt
    assert enhanced.language == "en"
    assert enhanced.enhancer == providers.enhancer.name


async def test_analyses_an_image(providers: Providers) -> None:
    png = solid_png(64, 48, (200, 30, 30))
    analysis = await providers.analyzer.analyze(
        AnalysisRequest(png, "image/png", prompt="a red square")
    )
    assert (analysis.width, analysis.height, analysis.mime_type) == (64, 48, "image/png")
    assert 0.0 <= analysis.focal_x <= 1.0 and 0.0 <= analysis.focal_y <= 1.0
    assert analysis.dominant_colors and all(c.startswith("#") for c in analysis.dominant_colors)
    assert analysis.alt_text.strip() and analysis.placeholder_hash
    assert analysis.analyzer == providers.analyzer.name


async def test_refuses_an_image_it_cannot_decode(providers: Providers) -> None:
    with pytest.raises(ValueError):
        await providers.analyzer.analyze(AnalysisRequest(b"not an image", "image/png"))


# A remote provider's failures reach callers as the port's exceptions (banatie.providers.errors),
# whatever the SDK raised; the embedded adapters have no remote to fail.
FAILURES: list[tuple[Behaviour, type[ProviderError]]] = [
    (BlockPrompt("SAFETY"), ContentBlocked),
    (RateLimit(retry_delay="0.01s"), ProviderRateLimited),
    (ServerFailure(503), ProviderError),
    (Slow(seconds=3.0), ProviderTimeout),
]


@pytest.mark.parametrize(
    ("behaviour", "error"), FAILURES, ids=["blocked", "rate-limited", "server-error", "timeout"]
)
async def test_remote_failures_are_the_ports_errors(
    behaviour: Behaviour,
    error: type[ProviderError],
    gemini_server: GeminiServer,
    http_backend: str,
    tmp_path: Path,
) -> None:
    made = make_providers(settings_for(tmp_path, gemini_server, gemini_timeout_seconds=0.3))
    try:
        calls: list[tuple[Kind, Callable[[], Awaitable[object]]]] = [
            ("image", lambda: made.synthesizer.synthesize(SynthesisRequest("a kite", "1:1"))),
            ("enhance", lambda: made.enhancer.enhance(EnhancementRequest("a kite"))),
        ]
        for kind, call in calls:
            gemini_server.queue(*[behaviour] * 3, kind=kind)  # every retry meets it
            with pytest.raises(error) as failed:
                await call()
            assert type(failed.value) is error
    finally:
        await made.aclose()
