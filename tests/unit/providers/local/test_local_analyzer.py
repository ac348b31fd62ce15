"""The embedded analyzer: sizes, focal point, colours, placeholder hash, alt text."""

from __future__ import annotations

import blurhash
import numpy as np
import numpy.typing as npt
import pytest
import pyvips

from banatie.providers.local.analyzer import (
    LocalAnalyzer,
    alt_text_from_filename,
    alt_text_from_prompt,
    colour_name,
)
from banatie.providers.local.synthesizer import LocalSynthesizer
from banatie.providers.ports import AnalysisRequest, SynthesisRequest


def to_image(pixels: npt.NDArray[np.uint8]) -> pyvips.Image:
    return pyvips.Image.new_from_array(pixels, interpretation="srgb")


def png(pixels: npt.NDArray[np.uint8]) -> bytes:
    data: bytes = to_image(pixels).pngsave_buffer()
    return data


def salient_square(fx: float, fy: float, width: int = 1344, height: int = 768) -> bytes:
    """A bright, detailed square centred at (fx, fy) on a flat dark background."""
    rng = np.random.default_rng(7)
    pixels = np.empty((height, width, 3), dtype=np.uint8)
    pixels[...] = (40, 60, 90)
    side = min(width, height) // 6
    cx, cy = int(fx * width), int(fy * height)
    patch = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    pixels[cy - side // 2 : cy - side // 2 + side, cx - side // 2 : cx - side // 2 + side] = patch
    return png(pixels)


def hex_rgb(value: str) -> npt.NDArray[np.int16]:
    return np.array([int(value[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


@pytest.fixture
def analyzer() -> LocalAnalyzer:
    return LocalAnalyzer()


@pytest.mark.parametrize(
    ("suffix", "mime_type"),
    [(".png", "image/png"), (".jpg", "image/jpeg"), (".webp", "image/webp"), (".gif", "image/gif")],
)
async def test_size_and_mime_type_from_the_loader(
    analyzer: LocalAnalyzer, suffix: str, mime_type: str
) -> None:
    pixels = np.zeros((300, 500, 3), dtype=np.uint8)
    pixels[:, :250] = (200, 30, 30)
    data = to_image(pixels).write_to_buffer(suffix)
    # the declared type is wrong on purpose: the loader decides
    result = await analyzer.analyze(AnalysisRequest(data, "application/octet-stream"))
    assert (result.width, result.height) == (500, 300)
    assert result.mime_type == mime_type
    assert result.has_alpha is False
    assert result.analyzer == "local"


async def test_alpha_is_reported(analyzer: LocalAnalyzer) -> None:
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[16:48, 16:48] = (20, 120, 220, 255)
    result = await analyzer.analyze(AnalysisRequest(png(rgba), "image/png"))
    assert result.has_alpha is True
    # transparent pixels are ignored: the only colour is the opaque square's
    assert result.dominant_colors[0] == "#1478dc"


async def test_exif_orientation_is_applied(analyzer: LocalAnalyzer) -> None:
    image = to_image(np.zeros((100, 200, 3), dtype=np.uint8)).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    result = await analyzer.analyze(AnalysisRequest(image.jpegsave_buffer(), "image/jpeg"))
    assert (result.width, result.height) == (100, 200)


@pytest.mark.parametrize(("fx", "fy"), [(0.8, 0.2), (0.25, 0.7), (0.5, 0.5), (0.12, 0.15)])
async def test_focal_point_finds_the_salient_object(
    analyzer: LocalAnalyzer, fx: float, fy: float
) -> None:
    result = await analyzer.analyze(AnalysisRequest(salient_square(fx, fy), "image/png"))
    assert abs(result.focal_x - fx) < 0.15
    assert abs(result.focal_y - fy) < 0.15


async def test_focal_point_of_a_flat_image_is_the_centre(analyzer: LocalAnalyzer) -> None:
    pixels = np.full((400, 600, 3), (90, 140, 200), dtype=np.uint8)
    result = await analyzer.analyze(AnalysisRequest(png(pixels), "image/png"))
    assert (result.focal_x, result.focal_y) == (0.5, 0.5)


async def test_dominant_colours_of_a_two_colour_image(analyzer: LocalAnalyzer) -> None:
    blue, orange = (30, 80, 200), (240, 140, 30)
    pixels = np.empty((480, 640, 3), dtype=np.uint8)
    pixels[:, :448] = blue  # 70 %
    pixels[:, 448:] = orange  # 30 %
    result = await analyzer.analyze(AnalysisRequest(png(pixels), "image/png"))
    colours = result.dominant_colors
    assert 2 <= len(colours) <= 5
    assert all(len(c) == 7 and c.startswith("#") for c in colours)
    assert np.abs(hex_rgb(colours[0]) - blue).max() <= 4
    assert np.abs(hex_rgb(colours[1]) - orange).max() <= 4
    assert result.tags[:2] == ["blue", "orange"]


async def test_dominant_colours_of_a_busy_image(analyzer: LocalAnalyzer) -> None:
    result = await LocalSynthesizer().synthesize(SynthesisRequest("sunset over hills", "16:9"))
    analysis = await analyzer.analyze(AnalysisRequest(result.data, "image/png"))
    assert 3 <= len(analysis.dominant_colors) <= 5
    assert len(set(analysis.dominant_colors)) == len(analysis.dominant_colors)


async def test_placeholder_is_a_valid_blurhash(analyzer: LocalAnalyzer) -> None:
    result = await analyzer.analyze(AnalysisRequest(salient_square(0.5, 0.5), "image/png"))
    value = result.placeholder_hash
    assert blurhash.is_valid_blurhash(value)
    assert len(value) == 6 + 2 * (4 * 3 - 1)  # 4x3 components
    blurhash.decode(value, 8, 6)


async def test_alt_text_from_prompt(analyzer: LocalAnalyzer) -> None:
    result = await analyzer.analyze(
        AnalysisRequest(
            salient_square(0.5, 0.5),
            "image/png",
            prompt="  @logo a red fox sleeping in the snow.  Soft light, 50mm.",
            filename="fox.png",
        )
    )
    assert result.alt_text == "A red fox sleeping in the snow"


async def test_alt_text_falls_back_on_file_name_then_description(
    analyzer: LocalAnalyzer,
) -> None:
    pixels = np.full((768, 1024, 3), (30, 80, 200), dtype=np.uint8)
    data = png(pixels)
    named = await analyzer.analyze(
        AnalysisRequest(data, "image/png", prompt="@logo", filename="summer-sale_banner.png")
    )
    assert named.alt_text == "Summer sale banner"
    camera = await analyzer.analyze(AnalysisRequest(data, "image/png", filename="IMG_1234.JPG"))
    assert camera.alt_text == "Image, 1024×768, mostly blue"
    bare = await analyzer.analyze(AnalysisRequest(data, "image/png"))
    assert bare.alt_text == "Image, 1024×768, mostly blue"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a cat", "A cat"),
        ("  a   cat\n\nwith a hat ", "A cat"),
        ("Put @logo on a mug, @brand-2 style! Extra", "Put on a mug, style"),
        ("iPhone on a desk. Studio light", "iPhone on a desk"),
        ("一只猫。第二句", "一只猫"),
        ("@logo", None),
        ("", None),
        (None, None),
    ],
)
def test_alt_text_rules(prompt: str | None, expected: str | None) -> None:
    assert alt_text_from_prompt(prompt) == expected


def test_alt_text_is_at_most_125_characters() -> None:
    prompt = "a very long description of a scene " * 10 + ". Second sentence."
    alt = alt_text_from_prompt(prompt)
    assert alt is not None
    assert len(alt) <= 125
    assert alt.endswith("…")
    assert not alt[:-1].endswith(" ")


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("summer-sale_banner.png", "Summer sale banner"),
        ("uploads/Team Photo 2024.jpg", "Team Photo 2024"),
        ("IMG_1234.JPG", None),
        ("DSC01234.jpeg", None),
        ("3f2a9c1e-77b0-4c1e-9d7a-0a1b2c3d4e5f.png", None),
        ("image.png", None),
        (None, None),
    ],
)
def test_alt_text_from_filename(filename: str | None, expected: str | None) -> None:
    assert alt_text_from_filename(filename) == expected


@pytest.mark.parametrize(
    ("hex_colour", "name"),
    [
        ("#1e50c8", "blue"),
        ("#f08c1e", "orange"),
        ("#d02020", "red"),
        ("#20a040", "green"),
        ("#000000", "black"),
        ("#ffffff", "white"),
        ("#808080", "grey"),
        ("#7a4a20", "brown"),
        ("#8030c0", "purple"),
        ("#f0e020", "yellow"),
    ],
)
def test_colour_names(hex_colour: str, name: str) -> None:
    assert colour_name(hex_colour) == name


async def test_undecodable_bytes(analyzer: LocalAnalyzer) -> None:
    with pytest.raises(ValueError, match="decodable"):
        await analyzer.analyze(AnalysisRequest(b"definitely not an image", "image/png"))


async def test_deterministic(analyzer: LocalAnalyzer) -> None:
    data = salient_square(0.3, 0.6)
    first = await analyzer.analyze(AnalysisRequest(data, "image/png", prompt="a square"))
    assert await analyzer.analyze(AnalysisRequest(data, "image/png", prompt="a square")) == first


async def test_opaque_alpha_band_is_not_transparency(analyzer: LocalAnalyzer) -> None:
    rgba = np.full((64, 64, 4), 255, dtype=np.uint8)
    result = await analyzer.analyze(AnalysisRequest(png(rgba), "image/png"))
    assert result.has_alpha is False
