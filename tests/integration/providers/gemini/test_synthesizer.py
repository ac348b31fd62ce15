"""GeminiSynthesizer against the wire-format server, through the real google-genai client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import pyvips

from banatie.providers.errors import ContentBlocked, ProviderError, UnsupportedByModel
from banatie.providers.gemini.answers import IncompleteAnswer
from banatie.providers.gemini.client import GeminiClient
from banatie.providers.gemini.families import image_capabilities
from banatie.providers.gemini.synthesizer import GeminiSynthesizer
from banatie.providers.ports import ASPECT_RATIO_SIZES, ReferenceImage, SynthesisRequest
from banatie.settings import Settings
from tests.support.gemini_server import (
    Behaviour,
    BlockPrompt,
    FinishWithoutImage,
    GeminiServer,
    ImageReply,
    Malformed,
    render_png,
    running_gemini_server,
)

GEMINI_25 = "gemini-2.5-flash-image"


def jpeg_bytes() -> bytes:
    image = pyvips.Image.black(32, 24).new_from_image([200, 30, 30]).cast("uchar")
    data: bytes = image.write_to_buffer(".jpg")
    return data


def size_of(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


async def test_sends_prompt_ratio_references_and_style_in_the_prompt(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_image_model=GEMINI_25)
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    logo = render_png("1:1", "logo")
    request = SynthesisRequest(
        prompt="A ceramic mug on a wooden desk with @logo printed on it",
        aspect_ratio="16:9",
        reference_images=[
            ReferenceImage(image_id="img_1", data=logo, mime_type="image/png", alias="@logo"),
            ReferenceImage(image_id="img_2", data=jpeg_bytes(), mime_type="image/jpeg"),
        ],
        style="Warm, muted colours; soft morning light.",
        image_size="1K",
    )

    result = await synthesizer.synthesize(request)

    received = gemini_server.last_request
    assert received.method == "POST"
    assert received.path == f"/v1beta/models/{GEMINI_25}:generateContent"
    assert received.api_key == "test-key"
    # Image models refuse system instructions: the style travels in the prompt text.
    assert received.prompt == request.prompt + "\n\nStyle: Warm, muted colours; soft morning light."
    assert received.response_modalities == ["IMAGE"]
    assert received.aspect_ratio == "16:9"
    assert received.image_size is None  # 2.5 has one size and takes no imageSize
    assert received.system_instruction is None
    assert [(i.mime_type, i.data) for i in received.images] == [
        ("image/png", logo),
        ("image/jpeg", jpeg_bytes()),
    ]
    assert "Reference image 1: @logo" in received.texts
    assert "Reference image 2" in received.texts

    assert result.mime_type == "image/png"
    assert result.model == GEMINI_25
    assert size_of(result.data) == (1344, 768)
    assert result.usage["outputTokens"] == 1290
    assert result.usage["promptTokens"] > 2 * 258
    assert result.usage["totalTokens"] == result.usage["promptTokens"] + 1290
    assert synthesizer.name == "gemini"


async def test_every_aspect_ratio_of_gemini_25_yields_its_size(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_image_model=GEMINI_25)
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    assert (await synthesizer.capabilities()).aspect_ratios == tuple(ASPECT_RATIO_SIZES)
    for ratio, size in ASPECT_RATIO_SIZES.items():
        result = await synthesizer.synthesize(
            SynthesisRequest(prompt="a lighthouse", aspect_ratio=ratio)
        )
        assert size_of(result.data) == size, ratio
        assert gemini_server.last_request.aspect_ratio == ratio


async def test_the_flash_image_model_of_the_day_offers_14_ratios_and_4_sizes(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    capabilities = await synthesizer.capabilities()
    assert capabilities.model == "gemini-3.1-flash-image-preview"
    assert len(capabilities.aspect_ratios) == 14
    assert {"1:4", "4:1", "1:8", "8:1"} <= set(capabilities.aspect_ratios)
    assert capabilities.image_sizes == ("512", "1K", "2K", "4K")
    for ratio in capabilities.aspect_ratios:
        result = await synthesizer.synthesize(SynthesisRequest(prompt="a kite", aspect_ratio=ratio))
        assert size_of(result.data) == capabilities.dimensions(ratio), ratio
    for size in ("512", "2K"):
        result = await synthesizer.synthesize(
            SynthesisRequest(prompt="a kite", aspect_ratio="16:9", image_size=size)
        )
        assert gemini_server.last_request.image_size == size
        assert size_of(result.data) == capabilities.dimensions("16:9", size), size
    assert capabilities.dimensions("16:9", "4K") == (5504, 3072)
    assert capabilities.dimensions("21:9", "512") == (792, 336)


async def test_a_thinking_answer_mixes_text_thoughts_and_an_interim_image(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    result = await synthesizer.synthesize(SynthesisRequest(prompt="a fox", aspect_ratio="3:2"))
    # The server answered a thought, an interim 256x256 thought image, text, then the image.
    assert size_of(result.data) == (1264, 848)
    assert result.model == "gemini-3.1-flash-image-preview"
    assert result.usage["outputTokens"] == 1120
    assert result.usage["thoughtsTokens"] > 0


async def test_the_pro_image_model_has_its_own_row(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    client = make_client(gemini_image_model="gemini-3-pro-image-preview")
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    capabilities = await synthesizer.capabilities()
    assert capabilities == image_capabilities("gemini-3-pro-image-preview")
    assert capabilities.image_sizes == ("1K", "2K", "4K")
    assert "1:8" not in capabilities.aspect_ratios
    result = await synthesizer.synthesize(
        SynthesisRequest(prompt="x", aspect_ratio="2:3", image_size="2K")
    )
    assert size_of(result.data) == (1696, 2528)
    assert gemini_server.last_request.model == "gemini-3-pro-image-preview"
    for ratio, size in (("1:8", None), ("1:1", "512")):
        with pytest.raises(UnsupportedByModel) as caught:
            await synthesizer.synthesize(
                SynthesisRequest(prompt="x", aspect_ratio=ratio, image_size=size)
            )
        assert (caught.value.status, caught.value.code) == (400, "VALIDATION_ERROR")
        assert "gemini-3-pro-image-preview" in caught.value.message
    assert len(gemini_server.requests_of("image")) == 1


async def test_no_system_instruction_no_references(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    await synthesizer.synthesize(SynthesisRequest(prompt="a fox", aspect_ratio="1:1"))
    received = gemini_server.last_request
    assert received.system_instruction is None
    assert received.images == []
    assert received.texts == ["a fox"]


async def test_image_models_refuse_a_system_instruction_like_the_service(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    """Why the synthesizer folds styles into the prompt: the wire server answers as Gemini."""
    from google.genai import types

    with pytest.raises(ProviderError) as caught:
        await client.generate(
            model=GEMINI_25,
            contents="a fox",
            config=types.GenerateContentConfig(
                response_modalities=["IMAGE"], system_instruction="Paint in watercolour."
            ),
            operation="image generation",
        )
    assert f"Developer instruction is not enabled for models/{GEMINI_25}" in caught.value.message
    assert gemini_server.last_request.status == 400


async def test_negative_prompt_goes_into_the_text(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    await synthesizer.synthesize(
        SynthesisRequest(
            prompt="a street", aspect_ratio="1:1", style="Noir.", negative_prompt="cars"
        )
    )
    received = gemini_server.last_request
    assert received.prompt == "a street\n\nStyle: Noir.\n\nAvoid: cars"
    assert received.system_instruction is None
    assert received.status == 200


async def test_reports_the_model_version_gemini_answers_with() -> None:
    with running_gemini_server(model_version="gemini-3.1-flash-image-preview-0226") as server:
        settings = Settings(_env_file=None, **server.settings_overrides())
        synthesizer = GeminiSynthesizer(settings)
        try:
            result = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
        finally:
            await synthesizer.aclose()
    assert result.model == "gemini-3.1-flash-image-preview-0226"


async def test_more_than_three_references_is_refused_before_calling(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    refs = [
        ReferenceImage(image_id=str(i), data=jpeg_bytes(), mime_type="image/jpeg") for i in range(4)
    ]
    with pytest.raises(ValueError, match="at most 3"):
        await synthesizer.synthesize(
            SynthesisRequest(prompt="x", aspect_ratio="1:1", reference_images=refs)
        )
    with pytest.raises(UnsupportedByModel, match="aspectRatio 7:5"):
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="7:5"))
    assert gemini_server.requests_of("image") == []


async def test_blocked_prompt_is_content_blocked(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    reasons = ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "OTHER", "IMAGE_SAFETY"]
    gemini_server.queue(*[BlockPrompt(reason) for reason in reasons])
    for reason in reasons:
        with pytest.raises(ContentBlocked) as caught:
            await synthesizer.synthesize(
                SynthesisRequest(prompt="something bad", aspect_ratio="1:1")
            )
        assert caught.value.reason == reason
        assert (caught.value.status, caught.value.code) == (422, "CONTENT_BLOCKED")
        assert reason in caught.value.message
    assert len(gemini_server.requests_of("image")) == len(reasons)  # never retried


@pytest.mark.parametrize(
    "reason",
    [
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
    ],
)
async def test_a_policy_finish_is_content_blocked_at_once(
    gemini_server: GeminiServer, client: GeminiClient, reason: str
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    gemini_server.queue(FinishWithoutImage(reason, text="Unable to show the image."))
    with pytest.raises(ContentBlocked) as caught:
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert caught.value.reason == reason
    assert "Unable to show the image." in caught.value.message
    assert len(gemini_server.requests_of("image")) == 1  # never retried


FAILED_FINISHES = [
    FinishWithoutImage("MAX_TOKENS"),
    FinishWithoutImage("OTHER", text="Something went wrong."),
    FinishWithoutImage("IMAGE_OTHER"),
    FinishWithoutImage("MALFORMED_RESPONSE"),
    FinishWithoutImage("NO_IMAGE", finish_message="The model did not produce an image."),
    FinishWithoutImage("STOP", text="Here is a description instead of an image."),
]


@pytest.mark.parametrize("finish", FAILED_FINISHES, ids=lambda f: f.reason)
async def test_a_failed_finish_is_retried_once_then_a_provider_error(
    gemini_server: GeminiServer, client: GeminiClient, finish: FinishWithoutImage
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    gemini_server.queue(finish, finish, kind="image")
    with pytest.raises(IncompleteAnswer) as caught:
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    expected = "NO_IMAGE" if finish.reason == "STOP" else finish.reason
    error = caught.value
    assert (error.status, error.code, error.reason) == (502, "PROVIDER_ERROR", expected)
    assert expected in error.message
    assert len(gemini_server.requests_of("image")) == 2


@pytest.mark.parametrize("finish", FAILED_FINISHES, ids=lambda f: f.reason)
async def test_a_failed_finish_then_an_image_succeeds(
    gemini_server: GeminiServer, client: GeminiClient, finish: FinishWithoutImage
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    gemini_server.queue(finish, kind="image")
    result = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert result.data.startswith(b"\x89PNG")
    assert [r.status for r in gemini_server.requests_of("image")] == [200, 200]


async def test_image_type_is_sniffed_from_the_bytes(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(ImageReply(jpeg_bytes(), mime_type="image/png"))
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    result = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert result.mime_type == "image/jpeg"
    assert result.data == jpeg_bytes()


@pytest.mark.parametrize(
    "behaviour",
    [
        Malformed(),
        Malformed(body=b"<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
        Malformed(body=b'{"candidates": []}'),
        Malformed(body=b'{"candidates": [{"content": {"parts": []}}]}'),
        Malformed(
            body=b'{"candidates": [{"content": {"parts": [{"inlineData": {"data": "%%"}}]}}]}'
        ),
        ImageReply(b"definitely not an image"),
    ],
    ids=["truncated", "html", "no-candidates", "no-finish-reason", "bad-base64", "not-an-image"],
)
async def test_malformed_answers_are_provider_errors(
    gemini_server: GeminiServer, client: GeminiClient, behaviour: Behaviour
) -> None:
    gemini_server.queue(behaviour, kind="image")
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    with pytest.raises(ProviderError) as caught:
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    # Exactly ProviderError: a body Gemini got wrong, not a request the SDK refused (500).
    assert type(caught.value) is ProviderError
    assert (caught.value.status, caught.value.code) == (502, "PROVIDER_ERROR")
    assert len(gemini_server.requests_of("image")) == 1
