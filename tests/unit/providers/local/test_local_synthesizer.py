"""The embedded synthesizer: deterministic, exact sizes, visible references, fast."""

from __future__ import annotations

import asyncio

import numpy as np
import numpy.typing as npt
import pytest
import pyvips

from banatie.providers.errors import ProviderError
from banatie.providers.local.synthesizer import LocalSynthesizer
from banatie.providers.ports import (
    ASPECT_RATIO_SIZES,
    ImageSynthesizer,
    ReferenceImage,
    SynthesisRequest,
)

MAGENTA = (255, 0, 255)
CYAN = (0, 255, 255)
ORANGE = (255, 128, 0)


def solid_png(colour: tuple[int, int, int], width: int = 200, height: int = 200) -> bytes:
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[...] = colour
    data: bytes = pyvips.Image.new_from_array(pixels, interpretation="srgb").pngsave_buffer()
    return data


def decode(data: bytes) -> npt.NDArray[np.uint8]:
    image = pyvips.Image.new_from_buffer(data, "")
    return np.asarray(image.numpy(), dtype=np.uint8)


def colour_mask(
    pixels: npt.NDArray[np.uint8], colour: tuple[int, int, int]
) -> npt.NDArray[np.bool_]:
    diff = np.abs(pixels[..., :3].astype(np.int16) - np.array(colour, dtype=np.int16))
    return np.asarray(diff.max(axis=2) <= 8)


@pytest.fixture
def synth() -> LocalSynthesizer:
    return LocalSynthesizer()


def test_implements_the_port(synth: LocalSynthesizer) -> None:
    port: ImageSynthesizer = synth
    assert port.name == "local"


async def test_same_input_same_bytes(synth: LocalSynthesizer) -> None:
    ref = ReferenceImage("img_1", solid_png(MAGENTA), "image/png", alias="logo")
    request = SynthesisRequest("a lighthouse at sunset @logo", "16:9", (ref,))
    first = await synth.synthesize(request)
    second = await synth.synthesize(request)
    assert first.data == second.data
    assert first.mime_type == "image/png"
    assert first.model == "banatie-local-1"
    assert first.usage == {}
    assert first.data[:8] == b"\x89PNG\r\n\x1a\n"


async def test_every_input_changes_the_bytes(synth: LocalSynthesizer) -> None:
    base = SynthesisRequest("a lighthouse at sunset", "1:1")
    variants = [
        base,
        SynthesisRequest("a lighthouse at sunrise", "1:1"),
        SynthesisRequest("a lighthouse at sunset", "4:3"),
        SynthesisRequest("a lighthouse at sunset", "1:1", style="watercolour"),
        SynthesisRequest(
            "a lighthouse at sunset", "1:1", (ReferenceImage("i", solid_png(CYAN), "image/png"),)
        ),
    ]
    results = await asyncio.gather(*(synth.synthesize(r) for r in variants))
    assert len({r.data for r in results}) == len(variants)


@pytest.mark.parametrize("aspect_ratio", sorted(ASPECT_RATIO_SIZES))
async def test_exact_gemini_sizes(synth: LocalSynthesizer, aspect_ratio: str) -> None:
    result = await synth.synthesize(SynthesisRequest("a cat in a hat", aspect_ratio))
    image = pyvips.Image.new_from_buffer(result.data, "")
    assert (image.width, image.height) == ASPECT_RATIO_SIZES[aspect_ratio]
    assert image.bands == 3
    assert image.get("vips-loader") == "pngload_buffer"


async def test_unknown_aspect_ratio(synth: LocalSynthesizer) -> None:
    with pytest.raises(ValueError, match=r"aspect ratio '7:3'.*16:9"):
        await synth.synthesize(SynthesisRequest("a cat", "7:3"))


async def test_at_most_three_references(synth: LocalSynthesizer) -> None:
    refs = tuple(ReferenceImage(f"i{i}", solid_png(MAGENTA), "image/png") for i in range(4))
    with pytest.raises(ValueError, match="at most 3"):
        await synth.synthesize(SynthesisRequest("a cat", "1:1", refs))


async def test_undecodable_reference_names_it(synth: LocalSynthesizer) -> None:
    bad = ReferenceImage("img_9", b"not an image", "image/png", alias="logo")
    with pytest.raises(ProviderError, match="@logo"):
        await synth.synthesize(SynthesisRequest("a cat", "1:1", (bad,)))


async def test_reference_is_visibly_composited(synth: LocalSynthesizer) -> None:
    prompt = "a green forest in spring"
    plain = decode((await synth.synthesize(SynthesisRequest(prompt, "1:1"))).data)
    assert colour_mask(plain, MAGENTA).sum() == 0

    ref = ReferenceImage("img_1", solid_png(MAGENTA), "image/png", alias="logo")
    pixels = decode((await synth.synthesize(SynthesisRequest(prompt, "1:1", (ref,)))).data)
    mask = colour_mask(pixels, MAGENTA)
    ys, xs = np.nonzero(mask)
    short = min(pixels.shape[:2])
    side = xs.max() - xs.min() + 1
    # about 30% of the short side, a solid square (every pixel in its box is magenta)
    assert 0.2 * short <= side <= 0.35 * short
    assert mask.sum() == side * (ys.max() - ys.min() + 1)
    # framed by a white border
    border = pixels[ys.min() - 3, xs.min() : xs.max() + 1]
    assert (border >= 245).all()


async def test_three_references_in_distinct_places(synth: LocalSynthesizer) -> None:
    colours = (MAGENTA, CYAN, ORANGE)
    refs = tuple(
        ReferenceImage(f"img_{i}", solid_png(c, 240, 160), "image/png")
        for i, c in enumerate(colours)
    )
    for aspect_ratio in ("16:9", "1:1", "9:16"):
        result = await synth.synthesize(SynthesisRequest("a poster", aspect_ratio, refs))
        pixels = decode(result.data)
        height, width = pixels.shape[:2]
        centres = []
        for colour in colours:
            ys, xs = np.nonzero(colour_mask(pixels, colour))
            assert len(xs) > 0.01 * width * height, (aspect_ratio, colour)
            centres.append((xs.mean() / width, ys.mean() / height))
        for i in range(3):
            for j in range(i + 1, 3):
                dist = np.hypot(centres[i][0] - centres[j][0], centres[i][1] - centres[j][1])
                assert dist > 0.2, (aspect_ratio, centres)


async def test_transparent_reference_sits_on_white(synth: LocalSynthesizer) -> None:
    rgba = np.zeros((100, 100, 4), dtype=np.uint8)
    rgba[25:75, 25:75] = (*MAGENTA, 255)  # opaque square, transparent surroundings
    data = pyvips.Image.new_from_array(rgba, interpretation="srgb").pngsave_buffer()
    ref = ReferenceImage("img_1", data, "image/png")
    pixels = decode((await synth.synthesize(SynthesisRequest("night sky", "1:1", (ref,)))).data)
    ys, xs = np.nonzero(colour_mask(pixels, MAGENTA))
    assert len(xs) > 0
    # the transparent part of the reference became white card, not the dark night sky
    assert (pixels[ys.min() - 10, xs.min() : xs.max()] >= 245).all()


async def test_looks_like_a_picture_not_noise(synth: LocalSynthesizer) -> None:
    for prompt in ("a cat", "sunset over the sea", "mountains at night", "red abstract"):
        result = await synth.synthesize(SynthesisRequest(prompt, "1:1"))
        pixels = decode(result.data).astype(np.int16)
        # smooth: neighbouring pixels are close; varied: not a flat fill
        assert np.abs(np.diff(pixels, axis=1)).mean() < 3
        assert pixels.reshape(-1, 3).std(axis=0).max() > 10
        assert len(result.data) < 1024 * 1024 * 3 / 3


async def test_colour_words_steer_the_palette(synth: LocalSynthesizer) -> None:
    red = decode((await synth.synthesize(SynthesisRequest("a red poster", "1:1"))).data)
    blue = decode((await synth.synthesize(SynthesisRequest("a blue poster", "1:1"))).data)
    r_mean = red.reshape(-1, 3).mean(axis=0)
    b_mean = blue.reshape(-1, 3).mean(axis=0)
    assert r_mean[0] > r_mean[2]
    assert b_mean[2] > b_mean[0]
