"""The embedded synthesizer: deterministic, exact sizes, visible references, fast."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import pyvips

from banatie.providers.errors import ProviderError, UnsupportedByModel
from banatie.providers.local.enhancer import enhance_prompt
from banatie.providers.local.synthesizer import LocalSynthesizer, _synthesize_png
from banatie.providers.ports import (
    ASPECT_RATIO_SIZES,
    TEMPLATES,
    EnhancementRequest,
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


async def test_its_capabilities_are_its_own_row(synth: LocalSynthesizer) -> None:
    capabilities = await synth.capabilities()
    assert capabilities.model == "banatie-local-1"
    assert capabilities.aspect_ratios == tuple(ASPECT_RATIO_SIZES)  # Gemini 2.5's ten
    assert capabilities.image_sizes == ("512", "1K", "2K", "4K")
    assert capabilities.sizes["1K"] == ASPECT_RATIO_SIZES


@pytest.mark.parametrize(("size", "scale"), [("512", 0.5), ("1K", 1), ("2K", 2)])
async def test_image_size_rescales_the_same_picture(
    synth: LocalSynthesizer, size: str, scale: float
) -> None:
    request = SynthesisRequest("a lighthouse at sunset", "21:9", image_size=size)
    result = await synth.synthesize(request)
    image = pyvips.Image.new_from_buffer(result.data, "")
    assert (image.width, image.height) == (int(1536 * scale), int(672 * scale))
    one_k = await synth.synthesize(SynthesisRequest("a lighthouse at sunset", "21:9"))
    # The same composition: the 1K picture scaled matches within a little resampling noise.
    reference = pyvips.Image.new_from_buffer(one_k.data, "").resize(scale)
    difference = (image - reference).abs().avg()
    assert difference < 6, difference


async def test_unknown_image_size(synth: LocalSynthesizer) -> None:
    with pytest.raises(UnsupportedByModel, match=r"image size '8K'.*512, 1K, 2K, 4K"):
        await synth.synthesize(SynthesisRequest("a cat", "1:1", image_size="8K"))


async def test_unknown_aspect_ratio(synth: LocalSynthesizer) -> None:
    with pytest.raises(UnsupportedByModel, match=r"aspect ratio '7:3'.*16:9"):
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


# --- what the picture shows ---------------------------------------------------------------

FOX_ORANGE = (226, 112, 34)  # OpenMoji's fox


def render(prompt: str, **fields: Any) -> npt.NDArray[np.uint8]:
    request = SynthesisRequest(prompt, fields.pop("aspect_ratio", "1:1"), **fields)
    return decode(_synthesize_png(request, *ASPECT_RATIO_SIZES[request.aspect_ratio]))


def near(pixels: npt.NDArray[np.uint8], colour: tuple[int, int, int], tol: int = 40) -> float:
    """The share of pixels within `tol` of `colour` on every channel."""
    diff = np.abs(pixels[..., :3].astype(np.int16) - np.array(colour, dtype=np.int16))
    return float((diff.max(axis=2) <= tol).mean())


def luma(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    rgb = pixels[..., :3].astype(np.float64) / 255.0
    return np.asarray(rgb @ np.array([0.2126, 0.7152, 0.0722]))


@pytest.mark.parametrize(
    "prompt",
    [
        "a red fox in a snowy forest",
        "un renard roux dans une forêt enneigée",
        "рыжая лиса в заснеженном лесу",
        "雪の森の赤いキツネ",
    ],
)
def test_the_subject_is_drawn(prompt: str) -> None:
    pixels = render(prompt)
    assert near(render("a snowy forest"), FOX_ORANGE) < 0.002
    share = near(pixels, FOX_ORANGE)
    assert share > 0.04  # the fox is large and plain to see
    # and it is one compact region, not scattered colour: most of it in one quarter-size box
    ys, xs = np.nonzero(colour_mask(pixels, FOX_ORANGE) | (near_mask(pixels, FOX_ORANGE)))
    h, w = pixels.shape[:2]
    assert np.ptp(ys) < 0.6 * h and np.ptp(xs) < 0.6 * w


def near_mask(pixels: npt.NDArray[np.uint8], colour: tuple[int, int, int]) -> npt.NDArray[np.bool_]:
    diff = np.abs(pixels[..., :3].astype(np.int16) - np.array(colour, dtype=np.int16))
    return np.asarray(diff.max(axis=2) <= 40)


def test_a_different_noun_draws_a_different_picture() -> None:
    fox, car = render("a fox in a meadow"), render("a car in a meadow")
    assert near(fox, FOX_ORANGE) > 0.04
    assert near(car, FOX_ORANGE, tol=16) < 0.005
    car_red = (234, 90, 71)  # OpenMoji's car body
    assert near(car, car_red, tol=16) > 0.01 > near(fox, car_red, tol=16)


def test_snow_whitens_the_ground_and_night_darkens_the_sky() -> None:
    h = 1024
    snow, meadow = luma(render("a fox in the snow")), luma(render("a fox in a green meadow"))
    assert snow[int(h * 0.85) :].mean() > 0.55
    assert snow[int(h * 0.85) :].mean() > meadow[int(h * 0.85) :].mean() + 0.2
    night, day = luma(render("a fox at night")), luma(render("a fox on a sunny day"))
    assert night[: h // 4].mean() < 0.2 < day[: h // 4].mean()


def test_a_city_has_buildings_with_lit_windows_at_night() -> None:
    pixels = render("a city street at night")
    sky = luma(pixels)[: int(1024 * 0.3)]
    assert sky.mean() < 0.2
    rgb = pixels.astype(int)
    lit = (rgb[..., 0] > 170) & (rgb[..., 1] > 130) & (rgb[..., 2] < rgb[..., 1] - 40)
    assert lit[: int(1024 * 0.75)].mean() > 0.01  # warm yellow windows against the dark


def test_negative_prompt_removes_snow_and_subject() -> None:
    snow = luma(render("a fox in the snow", negative_prompt="snow"))
    assert snow[int(1024 * 0.85) :].mean() < 0.5
    assert near(render("a fox in a meadow", negative_prompt="fox"), FOX_ORANGE) < 0.002


def _features(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Saturation, edge density, palette size, border uniformity and lightness, dark share."""
    rgb = pixels[..., :3].astype(np.float64) / 255.0
    saturation = (rgb.max(axis=2) - rgb.min(axis=2)).mean()
    grey = luma(pixels)
    edges = (np.abs(np.diff(grey, axis=1)) > 0.08).mean()
    palette = len(np.unique((pixels[..., :3] // 4).reshape(-1, 3), axis=0))
    border = np.concatenate([grey[:24].ravel(), grey[-24:].ravel(), grey[:, :24].ravel()])
    return np.array(
        [
            saturation * 4,
            edges * 40,
            np.log(palette) / 2,
            border.std() * 8,
            border.mean() * 2,
            (grey < 0.15).mean() * 8,
        ]
    )


@pytest.mark.parametrize("prompt", ["a red fox in a snowy forest", "a cup of coffee"])
def test_each_template_is_distinguishable_by_pixel_statistics(prompt: str) -> None:
    features = {t: _features(render(prompt, template=t)) for t in TEMPLATES}
    for a in TEMPLATES:
        for b in TEMPLATES:
            if a < b:
                distance = float(np.linalg.norm(features[a] - features[b]))
                assert distance > 0.25, (a, b, features[a], features[b])


def test_template_looks() -> None:
    sticker = render("a fox", template="sticker")
    comic = render("a fox", template="comic")
    minimalist = render("a fox", template="minimalist")
    # a sticker lies on a plain, light backing with a white die-cut border round the subject
    assert luma(sticker)[:40].std() < 0.01 and luma(sticker)[:40].mean() > 0.85
    assert near(sticker, (255, 255, 255), tol=6) > 0.02
    # a comic panel has a black frame and far more edges than a minimalist poster
    assert luma(comic)[:4].mean() < 0.1
    assert _features(comic)[1] > 3 * _features(minimalist)[1]
    # minimalism: a few flat colours cover almost everything
    _, counts = np.unique(minimalist.reshape(-1, 3) // 8, axis=0, return_counts=True)
    assert np.sort(counts)[-3:].sum() > 0.9 * minimalist.shape[0] * minimalist.shape[1]


def test_a_template_named_in_the_prompt_is_used() -> None:
    worded = render("a sticker of a fox")
    assert luma(worded)[:40].std() < 0.01 and luma(worded)[:40].mean() > 0.85
    assert luma(render("a fox"))[:40].std() > 0.01


def _colour_stats(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    """Mean and spread of the colour, in a rough opponent space (lightness, red-green, blue-yellow)."""
    rgb = pixels[..., :3].reshape(-1, 3).astype(np.float64) / 255.0
    opp = np.stack(
        [rgb.mean(axis=1), rgb[:, 0] - rgb[:, 1], (rgb[:, 0] + rgb[:, 1]) / 2 - rgb[:, 2]], axis=1
    )
    return np.concatenate([opp.mean(axis=0), opp.std(axis=0)])


STYLES = (
    "flat vector, pastel palette, thick outlines",
    "moody dark neon cyberpunk",
    "brand colours teal and coral",
)


def test_one_style_shares_a_palette_and_two_styles_differ() -> None:
    prompts = ("a red fox in a snowy forest", "a cat on the beach", "a car in the city")
    stats = {(s, p): _colour_stats(render(p, style=s)) for s in STYLES for p in prompts}
    within = [
        float(np.linalg.norm(stats[(s, a)] - stats[(s, b)]))
        for s in STYLES
        for a in prompts
        for b in prompts
        if a < b
    ]
    between = [
        float(np.linalg.norm(stats[(s, p)] - stats[(t, p)]))
        for p in prompts
        for s in STYLES
        for t in STYLES
        if s < t
    ]
    assert max(within) < min(between), (within, between)


def test_pastel_is_lighter_and_softer_than_dark_neon() -> None:
    pastel = _colour_stats(render("a fox", style="pastel palette"))
    dark = _colour_stats(render("a fox", style="dark moody"))
    assert pastel[0] > dark[0] + 0.15


async def test_style_images_colour_the_picture_instead_of_being_pasted(
    synth: LocalSynthesizer,
) -> None:
    style = ReferenceImage("img_s", solid_png(MAGENTA), "image/png", role="style")
    plain = decode((await synth.synthesize(SynthesisRequest("a fox", "1:1"))).data)
    styled = decode(
        (await synth.synthesize(SynthesisRequest("a fox", "1:1", reference_images=(style,)))).data
    )
    assert colour_mask(styled, MAGENTA).sum() == 0  # no card
    # the picture moved towards magenta: more red and blue than green
    p, s = plain.reshape(-1, 3).mean(axis=0), styled.reshape(-1, 3).mean(axis=0)
    assert (s[0] + s[2]) / 2 - s[1] > (p[0] + p[2]) / 2 - p[1] + 10


async def test_an_enhanced_prompt_steers_like_the_request_fields(synth: LocalSynthesizer) -> None:
    enhanced = enhance_prompt(
        EnhancementRequest(
            "a fox",
            template="sticker",
            style="pastel palette",
            system_prompt="Never show snow.",
        )
    )
    from_text = render(enhanced.prompt)
    from_fields = render("a fox", template="sticker", style="pastel palette")
    assert np.abs(from_text.astype(int) - from_fields.astype(int)).mean() < 12
    assert luma(from_text)[:40].std() < 0.01  # a sticker, from the words alone


def test_one_render_is_fast_enough() -> None:
    # the suite renders many pictures: keep one 1024x1024 picture well under a second of CPU
    render("a red fox in a snowy forest", template="comic")  # warm caches
    started = time.process_time()
    render("a cat in a snowy city at night", template="photorealistic")
    assert time.process_time() - started < 2.0
