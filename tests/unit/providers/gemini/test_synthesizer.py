"""GeminiSynthesizer against the wire-format server, through the real google-genai client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import pyvips

from banatie.providers.errors import ContentBlocked, ProviderError
from banatie.providers.gemini.client import GeminiClient
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


def jpeg_bytes() -> bytes:
    image = pyvips.Image.black(32, 24).new_from_image([200, 30, 30]).cast("uchar")
    data: bytes = image.write_to_buffer(".jpg")
    return data


async def test_sends_prompt_ratio_references_and_style_in_the_prompt(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
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
    )

    result = await synthesizer.synthesize(request)

    received = gemini_server.last_request
    assert received.method == "POST"
    assert received.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert received.api_key == "test-key"
    # Image models refuse system instructions: the style travels in the prompt text.
    assert received.prompt == request.prompt + "\n\nStyle: Warm, muted colours; soft morning light."
    assert received.response_modalities == ["IMAGE"]
    assert received.aspect_ratio == "16:9"
    assert received.system_instruction is None
    assert [(i.mime_type, i.data) for i in received.images] == [
        ("image/png", logo),
        ("image/jpeg", jpeg_bytes()),
    ]
    assert "Reference image 1: @logo" in received.texts
    assert "Reference image 2" in received.texts

    assert result.mime_type == "image/png"
    assert result.model == "gemini-2.5-flash-image"
    image = pyvips.Image.new_from_buffer(result.data, "")
    assert (image.width, image.height) == (1344, 768)
    assert result.usage["outputTokens"] == 1290
    assert result.usage["promptTokens"] > 2 * 258
    assert result.usage["totalTokens"] == result.usage["promptTokens"] + 1290
    assert synthesizer.name == "gemini"


async def test_every_aspect_ratio_yields_geminis_size(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    for ratio, size in ASPECT_RATIO_SIZES.items():
        result = await synthesizer.synthesize(
            SynthesisRequest(prompt="a lighthouse", aspect_ratio=ratio)
        )
        image = pyvips.Image.new_from_buffer(result.data, "")
        assert (image.width, image.height) == size, ratio
        assert gemini_server.last_request.aspect_ratio == ratio


async def test_no_system_instruction_no_references(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    await synthesizer.synthesize(SynthesisRequest(prompt="a fox", aspect_ratio="1:1"))
    received = gemini_server.last_request
    assert received.system_instruction is None
    assert received.images == []
    assert received.texts == ["a fox"]


async def test_reports_the_model_version_gemini_answers_with() -> None:
    with running_gemini_server(model_version="gemini-2.5-flash-image-preview-0925") as server:
        settings = Settings(_env_file=None, **server.settings_overrides())
        synthesizer = GeminiSynthesizer(settings)
        try:
            result = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
        finally:
            await synthesizer.aclose()
    assert result.model == "gemini-2.5-flash-image-preview-0925"


async def test_configured_model_is_used(
    gemini_server: GeminiServer, make_client: Callable[..., GeminiClient]
) -> None:
    gemini = make_client(gemini_image_model="gemini-3-pro-image-preview")
    synthesizer = GeminiSynthesizer(gemini.settings, client=gemini)
    result = await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert gemini_server.last_request.model == "gemini-3-pro-image-preview"
    assert result.model == "gemini-3-pro-image-preview"


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
    with pytest.raises(ValueError, match="aspect ratio"):
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="7:5"))
    assert gemini_server.requests == []


async def test_blocked_prompt_is_content_blocked(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    reasons = ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "OTHER"]
    gemini_server.queue(*[BlockPrompt(reason) for reason in reasons])
    for reason in reasons:
        with pytest.raises(ContentBlocked) as caught:
            await synthesizer.synthesize(
                SynthesisRequest(prompt="something bad", aspect_ratio="1:1")
            )
        assert caught.value.reason == reason
        assert (caught.value.status, caught.value.code) == (422, "CONTENT_BLOCKED")
        assert reason in caught.value.message
    assert len(gemini_server.requests) == len(reasons)  # never retried


async def test_finish_without_image_is_content_blocked(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    reasons = [
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "NO_IMAGE",
        "RECITATION",
        "IMAGE_OTHER",
        "OTHER",
    ]
    gemini_server.queue(*[FinishWithoutImage(r, text="Unable to show the image.") for r in reasons])
    for reason in reasons:
        with pytest.raises(ContentBlocked) as caught:
            await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
        assert caught.value.reason == reason
        assert "Unable to show the image." in caught.value.message
    assert len(gemini_server.requests) == len(reasons)  # never retried


async def test_text_only_answer_is_no_image(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(FinishWithoutImage("STOP", text="I can't create images of that."))
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    with pytest.raises(ContentBlocked) as caught:
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert caught.value.reason == "NO_IMAGE"
    assert "I can't create images of that." in caught.value.message


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
    gemini_server.queue(behaviour)
    synthesizer = GeminiSynthesizer(client.settings, client=client)
    with pytest.raises(ProviderError) as caught:
        await synthesizer.synthesize(SynthesisRequest(prompt="x", aspect_ratio="1:1"))
    assert type(caught.value) is ProviderError
    assert (caught.value.status, caught.value.code) == (502, "PROVIDER_ERROR")
    assert len(gemini_server.requests) == 1
