"""Model resolution from `models.list` and the capabilities table, on the wire-format server."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import pyvips
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

from banatie.providers.errors import ModelUnavailable, ProviderError
from banatie.providers.gemini.analyzer import GeminiAnalyzer
from banatie.providers.gemini.client import GeminiClient
from banatie.providers.gemini.enhancer import GeminiEnhancer
from banatie.providers.gemini.families import (
    IMAGE_FAMILIES,
    image_capabilities,
    parse_model_id,
    text_capabilities,
)
from banatie.providers.gemini.models import ListedModel, choose
from banatie.providers.gemini.synthesizer import GeminiSynthesizer
from banatie.providers.local.analyzer import LocalAnalyzer
from banatie.providers.ports import AnalysisRequest, EnhancementRequest, SynthesisRequest
from tests.support.gemini_server import GeminiServer, proto_field, render_png

# Names this code has never seen: the day Google ships its next models.
FUTURE = (
    "gemini-7-flash",
    "gemini-7-flash-lite",
    "gemini-7-pro",
    "gemini-7-flash-preview-tts",
    "gemini-7-flash-live",
    "gemini-6.5-flash-image",
    "gemini-7-flash-image-preview",
    "gemini-7-pro-image",
    "gemini-embedding-009",
)


def listed(*ids: str) -> list[ListedModel]:
    return [ListedModel(model) for model in ids]


# -- the table and the choice, without a server ------------------------------------------------


def test_preferred_ids_come_first_newest_first() -> None:
    everything = listed("gemini-2.5-flash-image", "gemini-3.1-flash-image-preview", *FUTURE)
    assert choose("image", everything) == ("gemini-3.1-flash-image-preview", "preferred")
    assert choose("image", listed("gemini-2.5-flash-image", "gemini-3.1-flash-image")) == (
        "gemini-3.1-flash-image",
        "preferred",
    )
    text = listed("gemini-2.5-flash", "gemini-3-flash-preview", "gemini-7-flash")
    assert choose("text", text) == ("gemini-3-flash-preview", "preferred")


def test_else_the_newest_listed_flash_model_of_the_kind() -> None:
    assert choose("image", listed(*FUTURE)) == ("gemini-7-flash-image-preview", "newest listed")
    # Full Flash over Lite; never TTS, Live, embeddings, Pro or image models for text.
    assert choose("text", listed(*FUTURE)) == ("gemini-7-flash", "newest listed")
    assert choose("text", listed("gemini-7-flash-lite", "gemini-7-pro")) == (
        "gemini-7-flash-lite",
        "newest listed",
    )
    # GA over a preview of the same version; a newer version over both.
    assert choose("text", listed("gemini-8-flash-preview", "gemini-8-flash")) == (
        "gemini-8-flash",
        "newest listed",
    )
    assert choose("image", listed("gemini-7-flash-image", "gemini-7.5-flash-image-exp")) == (
        "gemini-7.5-flash-image-exp",
        "newest listed",
    )
    assert choose("image", listed("gemini-7-pro-image", "imagen-9.0-generate")) is None
    assert choose("text", listed("gemini-embedding-009", "gemma-9-27b-it")) is None


def test_models_that_cannot_generate_content_or_failed_are_skipped() -> None:
    models = [
        ListedModel("gemini-9-flash-image", ("predict",)),
        ListedModel("gemini-8-flash-image", ("generateContent", "countTokens")),
    ]
    assert choose("image", models) == ("gemini-8-flash-image", "newest listed")
    assert choose("image", models, excluded={"gemini-8-flash-image"}) is None


def test_unknown_models_get_the_row_of_their_nearest_known_family() -> None:
    flash_31 = image_capabilities("gemini-3.1-flash-image")
    assert image_capabilities("gemini-7-flash-image-preview").sizes == flash_31.sizes
    assert (
        image_capabilities("gemini-7-flash-image-preview").model == "gemini-7-flash-image-preview"
    )
    assert image_capabilities("models/gemini-3.1-flash-image-preview").family == (
        "gemini-3.1-flash-image"
    )
    assert image_capabilities("gemini-7-pro-image").family == "gemini-3-pro-image"
    # Older or unreadable ids: the most conservative row (Gemini 2.5: 10 ratios, 1K).
    for old in ("gemini-2.0-flash-preview-image-generation", "nano-banana"):
        assert image_capabilities(old).family == "gemini-2.5-flash-image"
    assert text_capabilities("gemini-7-flash").family == "gemini-3-flash"
    assert text_capabilities("gemini-2.5-flash-lite").family == "gemini-2.5-flash"
    assert text_capabilities("gemma-3-27b-it").thinking_config() is None


@pytest.mark.parametrize(
    ("model", "config"),
    [
        ("gemini-2.5-flash", types.ThinkingConfig(thinking_budget=0)),
        ("gemini-2.5-flash-lite", types.ThinkingConfig(thinking_budget=0)),
        ("gemini-2.5-pro", None),
        (
            "gemini-3-flash-preview",
            types.ThinkingConfig(thinking_level=types.ThinkingLevel.MINIMAL),
        ),
        ("gemini-3-pro-preview", types.ThinkingConfig(thinking_level=types.ThinkingLevel.LOW)),
        ("gemini-7-flash", types.ThinkingConfig(thinking_level=types.ThinkingLevel.MINIMAL)),
    ],
)
def test_thinking_is_set_the_way_each_family_takes_it(
    model: str, config: types.ThinkingConfig | None
) -> None:
    assert text_capabilities(model).thinking_config() == config


def test_every_image_family_has_the_same_ratios_at_every_size() -> None:
    for family in IMAGE_FAMILIES:
        ratios = family.capabilities.aspect_ratios
        for table in family.capabilities.sizes.values():
            assert tuple(table) == ratios, family.name


_WORDS = st.lists(st.sampled_from(["image", "preview", "exp", "tts", "09", "2025", "live"]))


@given(
    version=st.lists(st.integers(0, 40), min_size=1, max_size=3),
    tier=st.sampled_from(["flash", "flash-lite", "pro"]),
    words=_WORDS,
    prefixed=st.booleans(),
)
def test_model_ids_parse_into_version_tier_and_words(
    version: list[int], tier: str, words: list[str], prefixed: bool
) -> None:
    name = "-".join(["gemini", ".".join(map(str, version)), tier, *words])
    parsed = parse_model_id(f"models/{name}" if prefixed else name)
    assert parsed is not None
    assert parsed.id == name
    assert parsed.version == tuple(version)
    assert (parsed.tier, parsed.lite) == ("pro" if tier == "pro" else "flash", tier == "flash-lite")
    assert parsed.words == frozenset(words)
    assert parsed.makes_images is ("image" in words)


@given(st.text(max_size=40))
def test_parsing_any_text_never_raises(text: str) -> None:
    parsed = parse_model_id(text)
    assert parsed is None or parsed.id.startswith("gemini-")


@given(st.lists(st.sampled_from([*FUTURE, "gemini-2.5-flash-image", "gemini-3-flash-preview"])))
def test_the_choice_is_always_a_listed_model_of_the_kind(ids: list[str]) -> None:
    for kind in ("image", "text"):
        choice = choose(kind, listed(*ids))
        if choice is not None:
            assert choice[0] in ids
            parsed = parse_model_id(choice[0])
            assert parsed is not None and parsed.makes_images is (kind == "image")


# -- resolution on the wire-format server --------------------------------------------------------


async def test_never_seen_models_are_resolved_and_used(
    gemini_server: GeminiServer, client: GeminiClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a key: the newest listed Flash models generate, enhance and analyse."""
    gemini_server.set_models(*FUTURE)
    with caplog.at_level(logging.INFO, logger="banatie.providers.gemini"):
        image = await GeminiSynthesizer(client.settings, client=client).synthesize(
            SynthesisRequest(prompt="a fox", aspect_ratio="1:8", image_size="512")
        )
        enhanced = await GeminiEnhancer(client.settings, client=client).enhance(
            EnhancementRequest(prompt="a fox", aspect_ratio="1:8")
        )
        analysis = await GeminiAnalyzer(client.settings, LocalAnalyzer(), client=client).analyze(
            AnalysisRequest(data=image.data, mime_type=image.mime_type, prompt="a fox")
        )
    assert image.model == "gemini-7-flash-image-preview"
    decoded = pyvips.Image.new_from_buffer(image.data, "")
    assert (decoded.width, decoded.height) == (192, 1536)
    assert enhanced.enhancer == "gemini"
    assert analysis.analyzer == "gemini"
    assert [(r.kind, r.model) for r in gemini_server.requests if r.kind != "list"] == [
        ("image", "gemini-7-flash-image-preview"),
        ("enhance", "gemini-7-flash"),
        ("analyze", "gemini-7-flash"),
    ]
    assert len(gemini_server.requests_of("list")) == 1  # one listing serves both models
    log = caplog.text
    assert "Gemini image model: gemini-7-flash-image-preview (newest listed" in log
    assert "Gemini text model: gemini-7-flash (newest listed" in log


async def test_a_pinned_model_that_is_not_listed_is_model_unavailable(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_image_model="gemini-2.0-flash-exp-image-generation")
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    with pytest.raises(ModelUnavailable) as caught:
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    error = caught.value
    assert (error.status, error.code) == (503, "MODEL_UNAVAILABLE")
    assert "'gemini-2.0-flash-exp-image-generation'" in error.message
    assert "BANATIE_GEMINI_IMAGE_MODEL" in error.message
    assert "gemini-3.1-flash-image-preview" in error.message  # what is listed
    assert "gemini-2.5-flash-preview-tts" not in error.message  # only the image models
    assert gemini_server.requests_of("image") == []
    # Validation still has a row to work with: the pinned id's family.
    assert (await synthesizer.capabilities()).model == "gemini-2.0-flash-exp-image-generation"


async def test_no_fitting_model_is_model_unavailable(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.set_models("gemini-7-pro", "imagen-9.0-generate")
    with pytest.raises(ModelUnavailable, match="no Flash image model is listed") as caught:
        await client.models.image()
    assert "imagen-9.0-generate" in caught.value.message
    assert "BANATIE_GEMINI_IMAGE_MODEL" in caught.value.message


async def test_every_page_of_the_listing_is_read(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.max_page_size = 2
    gemini_server.set_models("gemini-embedding-001", *FUTURE[:6], "gemini-3.1-flash-image-preview")
    assert (await client.models.image()).id == "gemini-3.1-flash-image-preview"
    pages = gemini_server.requests_of("list")
    assert len(pages) == 4
    assert all(r.path == "/v1beta/models" for r in pages)


async def test_a_retired_model_is_resolved_again(
    gemini_server: GeminiServer, client: GeminiClient, caplog: pytest.LogCaptureFixture
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    first = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert first.model == "gemini-3.1-flash-image-preview"
    # Google retires it: it leaves the listing and answers 404.
    gemini_server.set_models("gemini-2.5-flash-image", "gemini-3-flash-preview")
    with caplog.at_level(logging.WARNING, logger="banatie.providers.gemini"):
        second = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert second.model == "gemini-2.5-flash-image"
    assert [(r.kind, r.status) for r in gemini_server.requests] == [
        ("list", 200),
        ("image", 200),
        ("image", 404),
        ("list", 200),
        ("image", 200),
    ]
    assert "404 for gemini-3.1-flash-image-preview" in caplog.text
    assert (await synthesizer.capabilities()).family == "gemini-2.5-flash-image"


async def test_a_pinned_model_that_retires_is_model_unavailable(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_text_model="gemini-2.5-flash")
    enhancer = GeminiEnhancer(client.settings, client=client)
    await enhancer.enhance(EnhancementRequest(prompt="x"))
    gemini_server.set_models("gemini-3-flash-preview")
    with pytest.raises(
        ModelUnavailable, match=r"'gemini-2\.5-flash'.*listed: gemini-3-flash-preview"
    ):
        await enhancer.enhance(EnhancementRequest(prompt="x"))


async def test_an_endpoint_without_listing_works_with_a_pinned_model(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    gemini_server.lists_models = False
    pinned = make_client(gemini_image_model="gemini-2.5-flash-image")
    result = await GeminiSynthesizer(pinned.settings, client=pinned).synthesize(
        SynthesisRequest(prompt="x", aspect_ratio="1:1")
    )
    assert result.model == "gemini-2.5-flash-image"
    with pytest.raises(ModelUnavailable, match="does not list its models"):
        await make_client().models.image()


async def test_a_failed_listing_is_not_repeated_at_once(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_api_key="wrong-key")
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    for _ in range(3):  # every request validates against the row: no listing storm
        assert (await synthesizer.capabilities()).family == "gemini-3.1-flash-image"
    with pytest.raises(ProviderError, match="API key not valid"):
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert len(gemini_server.requests_of("list")) == 1


async def test_warm_up_resolves_both_in_the_background(
    gemini_server: GeminiServer, client: GeminiClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="banatie.providers.gemini"):
        client.models.warm_up()
        # Callers meanwhile wait for the warm-up's listing instead of making their own.
        assert (await client.models.image()).id == "gemini-3.1-flash-image-preview"
        assert (await client.models.text()).id == "gemini-3-flash-preview"
    assert len(gemini_server.requests_of("list")) == 1
    assert "Gemini image model: gemini-3.1-flash-image-preview (preferred" in caplog.text
    assert "Gemini text model: gemini-3-flash-preview (preferred" in caplog.text


async def test_analysis_of_a_gemini_3_image(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    png = render_png("1:1", "x", size=(1024, 1024))
    analysis = await GeminiAnalyzer(client.settings, LocalAnalyzer(), client=client).analyze(
        AnalysisRequest(data=png, mime_type="image/png")
    )
    assert (analysis.focal_x, analysis.focal_y) == (0.62, 0.41)
    thinking = gemini_server.requests_of("analyze")[0].thinking_config
    assert proto_field(thinking, "thinkingLevel") == "MINIMAL"
