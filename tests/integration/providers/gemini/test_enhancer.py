"""GeminiEnhancer against the wire-format server, through the real google-genai client."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from banatie.providers.errors import (
    ContentBlocked,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
)
from banatie.providers.gemini.client import GeminiClient
from banatie.providers.gemini.enhancer import TEMPLATE_GUIDANCE, GeminiEnhancer
from banatie.providers.ports import TEMPLATES, EnhancementRequest
from tests.support.gemini_server import (
    BlockPrompt,
    FinishWithoutImage,
    GeminiServer,
    JsonText,
    Malformed,
    RateLimit,
    ServerFailure,
    Slow,
    proto_field,
)


def enhancer(client: GeminiClient) -> GeminiEnhancer:
    return GeminiEnhancer(client.settings, client=client)


async def test_sends_prompt_schema_and_instructions(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    request = EnhancementRequest(
        prompt="кот сидит на крыше рядом с @logo",
        template="photorealistic",
        aspect_ratio="16:9",
        style="Muted teal and orange palette, analog film look.",
        system_prompt="Always set scenes in Lisbon.",
        reference_aliases=["@hero"],
    )

    result = await enhancer(client).enhance(request)

    received = gemini_server.last_request
    # The resolved text model: the first listed id of the preference list.
    assert received.path == "/v1beta/models/gemini-3-flash-preview:generateContent"
    assert received.api_key == "test-key"
    assert received.kind == "enhance"
    assert received.texts == [request.prompt]  # the prompt alone is the user content
    assert received.images == []
    assert received.response_mime_type == "application/json"
    schema = received.response_schema
    assert schema is not None
    assert set(schema["properties"]) == {"enhancedPrompt", "detectedLanguage", "rationale"}
    assert set(schema["required"]) == {"enhancedPrompt", "detectedLanguage", "rationale"}
    instruction = received.system_instruction or ""
    assert TEMPLATE_GUIDANCE["photorealistic"] in instruction
    assert "not a list of keywords" in instruction
    assert "16:9" in instruction
    assert "Muted teal and orange palette, analog film look." in instruction
    assert "Always set scenes in Lisbon." in instruction
    assert "@logo" in instruction
    assert "@hero" in instruction
    assert "IMAGE" not in received.response_modalities

    assert result.enhancer == "gemini"
    assert result.language == "ru"
    assert request.prompt in result.prompt  # the fake rewrites around the original
    assert "@logo" in result.prompt
    assert "@hero" in result.prompt  # re-attached: the fake does not know about it
    assert result.rationale


@pytest.mark.parametrize("template", TEMPLATES)
async def test_each_template_has_its_guidance(
    gemini_server: GeminiServer, client: GeminiClient, template: str
) -> None:
    await enhancer(client).enhance(EnhancementRequest(prompt="a teapot", template=template))
    instruction = gemini_server.last_request.system_instruction or ""
    assert TEMPLATE_GUIDANCE[template] in instruction
    others = [t for t in TEMPLATES if t != template]
    assert not any(TEMPLATE_GUIDANCE[t] in instruction for t in others)


async def test_unknown_template_falls_back_to_general(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    await enhancer(client).enhance(EnhancementRequest(prompt="a teapot", template="vaporwave"))
    assert TEMPLATE_GUIDANCE["general"] in (gemini_server.last_request.system_instruction or "")


async def test_no_style_no_system_prompt(gemini_server: GeminiServer, client: GeminiClient) -> None:
    await enhancer(client).enhance(EnhancementRequest(prompt="a teapot"))
    instruction = gemini_server.last_request.system_instruction or ""
    assert "House style" not in instruction
    assert "project owner" not in instruction
    assert "Reference images sent" not in instruction


async def test_uses_geminis_answer(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(
        JsonText(
            {
                "enhancedPrompt": "  A tabby cat dozes on a sunlit terracotta roof beside @logo.  ",
                "detectedLanguage": "RU",
                "rationale": " Translated and added light. ",
            }
        )
    )
    result = await enhancer(client).enhance(EnhancementRequest(prompt="кот на крыше @logo"))
    assert result.prompt == "A tabby cat dozes on a sunlit terracotta roof beside @logo."
    assert result.language == "ru"
    assert result.rationale == "Translated and added light."


async def test_dropped_aliases_are_reattached(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(
        JsonText(
            {
                "enhancedPrompt": "A mug on a desk with the company logo.",
                "detectedLanguage": "en",
                "rationale": "x",
            }
        )
    )
    result = await enhancer(client).enhance(
        EnhancementRequest(prompt="a mug with @logo and @brand-mark")
    )
    assert result.prompt.startswith("A mug on a desk with the company logo.")
    assert "@logo" in result.prompt
    assert "@brand-mark" in result.prompt


async def test_language_is_normalised(gemini_server: GeminiServer, client: GeminiClient) -> None:
    cases: list[tuple[object, str]] = [
        ("pt-BR", "pt-br"),
        ("English", "und"),
        (7, "und"),
        ("es", "es"),
    ]
    for given, expected in cases:
        gemini_server.queue(
            JsonText({"enhancedPrompt": "A cat.", "detectedLanguage": given, "rationale": "r"})
        )
        result = await enhancer(client).enhance(EnhancementRequest(prompt="gato"))
        assert result.language == expected, given


async def test_unusable_json_is_provider_error(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    payloads: list[object] = [
        "this is not JSON",
        '{"enhancedPrompt": "A cat',
        ["A cat"],
        {"detectedLanguage": "en", "rationale": "r"},
        {"enhancedPrompt": "   ", "detectedLanguage": "en", "rationale": "r"},
        {"enhancedPrompt": 42, "detectedLanguage": "en", "rationale": "r"},
    ]
    gemini_server.queue(*[JsonText(payload) for payload in payloads])
    for payload in payloads:
        with pytest.raises(ProviderError) as caught:
            await enhancer(client).enhance(EnhancementRequest(prompt="gato"))
        assert type(caught.value) is ProviderError, payload
    assert len(gemini_server.requests_of("enhance")) == len(payloads)  # never retried


async def test_malformed_body_is_provider_error(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(Malformed())
    with pytest.raises(ProviderError, match="malformed"):
        await enhancer(client).enhance(EnhancementRequest(prompt="gato"))


async def test_blocked_prompt(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(BlockPrompt("SAFETY"))
    with pytest.raises(ContentBlocked) as caught:
        await enhancer(client).enhance(EnhancementRequest(prompt="something bad"))
    assert caught.value.reason == "SAFETY"


async def test_finish_without_text(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(FinishWithoutImage("PROHIBITED_CONTENT"))
    with pytest.raises(ContentBlocked) as caught:
        await enhancer(client).enhance(EnhancementRequest(prompt="something bad"))
    assert caught.value.reason == "PROHIBITED_CONTENT"


async def test_max_tokens_is_retried_once_then_a_provider_error(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(FinishWithoutImage("MAX_TOKENS"), kind="enhance")
    result = await enhancer(client).enhance(EnhancementRequest(prompt="a teapot"))
    assert "a teapot" in result.prompt
    gemini_server.queue(*[FinishWithoutImage("MAX_TOKENS")] * 2, kind="enhance")
    with pytest.raises(ProviderError) as caught:
        await enhancer(client).enhance(EnhancementRequest(prompt="a teapot"))
    assert (caught.value.status, caught.value.reason) == (502, "MAX_TOKENS")
    assert len(gemini_server.requests_of("enhance")) == 4


async def test_retries_then_succeeds(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(RateLimit(retry_delay="0.01s"), ServerFailure(500))
    result = await enhancer(client).enhance(EnhancementRequest(prompt="a teapot"))
    assert "a teapot" in result.prompt
    assert [r.status for r in gemini_server.requests_of("enhance")] == [429, 500, 200]


async def test_rate_limited_after_retries(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(*[RateLimit(retry_delay="0.5s")] * 3)
    with pytest.raises(ProviderRateLimited) as caught:
        await enhancer(client).enhance(EnhancementRequest(prompt="a teapot"))
    assert caught.value.retry_after == 0.5
    assert len(gemini_server.requests_of("enhance")) == 3


async def test_timeout(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    gemini_server.queue(Slow(seconds=3))
    with pytest.raises(ProviderTimeout):
        await enhancer(make_client(gemini_timeout_seconds=0.3)).enhance(
            EnhancementRequest(prompt="a teapot")
        )


async def test_configured_text_model(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    await enhancer(make_client(gemini_text_model="gemini-2.5-flash-lite")).enhance(
        EnhancementRequest(prompt="a teapot")
    )
    assert gemini_server.last_request.model == "gemini-2.5-flash-lite"


@pytest.mark.parametrize(
    ("model", "budget", "level"),
    [
        ("gemini-2.5-flash", 0, None),
        ("gemini-2.5-flash-lite", 0, None),
        ("gemini-2.5-pro", None, None),
        ("gemini-3-flash-preview", None, "MINIMAL"),
        ("gemini-3-pro-preview", None, "LOW"),
    ],
)
async def test_thinking_is_turned_down_the_way_each_model_takes_it(
    gemini_server: GeminiServer,
    make_client: Callable[..., GeminiClient],
    model: str,
    budget: int | None,
    level: str | None,
) -> None:
    await enhancer(make_client(gemini_text_model=model)).enhance(EnhancementRequest(prompt="a"))
    thinking = proto_field(gemini_server.last_request.generation_config, "thinkingConfig")
    # thinking_budget on 2.5, thinking_level on 3.x: never both (Gemini answers 400).
    assert proto_field(thinking, "thinkingBudget") == budget
    assert proto_field(thinking, "thinkingLevel") == level
