"""Rendering the effects on a real photo (scikit-image's astronaut) and on drawn images,
asserting what a user would see: turned and mirrored corners, blur, grey, a watermark in the
chosen corner only, a trimmed border."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
import pyvips
import skimage

from banatie.delivery.transform import decode_once, parse_transform, render

ASTRONAUT = Path(skimage.__file__).parent / "data" / "astronaut.png"


@cache
def photo() -> bytes:
    return ASTRONAUT.read_bytes()


@cache
def corners_png() -> bytes:
    """200x100: red top-left, green top-right, blue bottom-left, white bottom-right."""
    array = np.zeros((100, 200, 3), dtype=np.uint8)
    array[:50, :100] = (255, 0, 0)
    array[:50, 100:] = (0, 255, 0)
    array[50:, :100] = (0, 0, 255)
    array[50:, 100:] = (255, 255, 255)
    return bytes(pyvips.Image.new_from_array(array).copy(interpretation="srgb").pngsave_buffer())


@cache
def logo_png() -> bytes:
    """A solid magenta square with alpha."""
    array = np.zeros((40, 40, 4), dtype=np.uint8)
    array[:, :] = (255, 0, 255, 255)
    return bytes(pyvips.Image.new_from_array(array).copy(interpretation="srgb").pngsave_buffer())


def run(data: bytes, query: str, fmt: str = "png", watermark: bytes | None = None) -> np.ndarray:
    spec = parse_transform(dict(parse_qsl(query)))
    out = render(data, spec, output_format=fmt, watermark=watermark)
    return np.asarray(pyvips.Image.new_from_buffer(out, "").numpy()).astype(np.int32)


def colour(pixels: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in pixels[y, x, :3])


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@pytest.mark.parametrize("decoded", [False, True])
def test_rotate_turns_the_result_clockwise_and_swaps_its_size(decoded: bool) -> None:
    source = decode_once(corners_png()) if decoded else corners_png()
    out = run(source, "rotate=90")
    assert out.shape[:2] == (200, 100)  # height, width: 200x100 became 100x200
    # Turned clockwise: the bottom-left (blue) corner is now the top-left.
    assert near(colour(out, 2, 2), BLUE)
    assert near(colour(out, 97, 2), RED)
    assert near(colour(out, 97, 197), GREEN)


def test_rotate_applies_after_the_resize_and_srotate_before() -> None:
    # rotate: a 100x50 box turned gives 50x100.
    assert run(corners_png(), "w=100&h=50&mode=crop&rotate=270").shape[:2] == (100, 50)
    # srotate: the source is 100x200 once turned; w=50 fits that into 50x100.
    out = run(corners_png(), "w=50&srotate=90")
    assert out.shape[:2] == (100, 50)
    assert near(colour(out, 1, 1), BLUE)


def test_rotate_a_photo() -> None:
    upright = run(photo(), "w=256&h=128&mode=crop")
    turned = run(photo(), "w=256&h=128&mode=crop&rotate=180")
    assert turned.shape == upright.shape
    assert np.abs(turned[::-1, ::-1] - upright).mean() < 2


@pytest.mark.parametrize(
    ("flip", "top_left", "bottom_right"),
    [("h", GREEN, BLUE), ("v", BLUE, GREEN), ("both", WHITE, RED), ("none", RED, WHITE)],
)
def test_flip_mirrors_the_corners(
    flip: str, top_left: tuple[int, int, int], bottom_right: tuple[int, int, int]
) -> None:
    out = run(corners_png(), f"flip={flip}")
    assert out.shape[:2] == (100, 200)
    assert near(colour(out, 1, 1), top_left)
    assert near(colour(out, 198, 98), bottom_right)


def edge_energy(pixels: np.ndarray) -> float:
    grey = pixels[:, :, :3].mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean())


def test_blur_softens_and_sharpen_hardens_the_edges_of_a_photo() -> None:
    plain = edge_energy(run(photo(), "w=256"))
    assert edge_energy(run(photo(), "w=256&blur=3")) < plain * 0.5
    assert edge_energy(run(photo(), "w=256&f.sharpen=60")) > plain * 1.1


def test_saturation_minus_one_is_grey_and_plus_one_is_more_colourful() -> None:
    plain = run(photo(), "w=128")
    grey = run(photo(), "w=128&s.saturation=-1")
    spread = grey[:, :, :3].max(axis=2) - grey[:, :, :3].min(axis=2)
    assert spread.max() <= 2
    vivid = run(photo(), "w=128&s.saturation=1")
    chroma = plain[:, :, :3].max(axis=2) - plain[:, :, :3].min(axis=2)
    vivid_chroma = vivid[:, :, :3].max(axis=2) - vivid[:, :, :3].min(axis=2)
    assert vivid_chroma.mean() > chroma.mean() * 1.3


def test_brightness_and_contrast() -> None:
    plain = run(photo(), "w=128")
    assert run(photo(), "w=128&s.brightness=0.3").mean() > plain.mean() + 40
    assert run(photo(), "w=128&s.brightness=-0.3").mean() < plain.mean() - 40
    assert (run(photo(), "w=128&s.brightness=1") == 255).all()
    flat = run(photo(), "w=128&s.contrast=-1")
    assert flat.min() >= 126 and flat.max() <= 129
    assert run(photo(), "w=128&s.contrast=0.5").std() > plain.std() * 1.3


def test_adjustments_keep_alpha_and_padding() -> None:
    out = run(corners_png(), "w=100&h=100&mode=pad&bgcolor=ff000080&s.saturation=-1&format=png")
    assert out.shape == (100, 100, 4)
    assert tuple(out[0, 50]) == (255, 0, 0, 128)  # the padding keeps its colour
    r, g, b = colour(out, 10, 40)  # the red quadrant, greyed
    assert abs(r - g) <= 2 and abs(g - b) <= 2


def test_watermark_changes_the_chosen_corner_only() -> None:
    plain = run(photo(), "w=400", "jpeg")
    # An 80x80 square (20 % of 400) 8 px (2 %) from the edges: centred at 48 or 352.
    for position, (x, y) in {"bottomright": (352, 352), "topleft": (48, 48)}.items():
        query = f"w=400&watermark=@logo&watermark.position={position}&watermark.scale=0.2"
        marked = run(photo(), query, "jpeg", watermark=logo_png())
        assert marked.shape == plain.shape
        assert near(colour(marked, x, y), (255, 0, 255), 20)  # magenta
        changed = np.abs(marked - plain).max(axis=2) > 40
        ys, xs = np.nonzero(changed)
        # Only that square changed.
        assert changed.sum() == pytest.approx(80 * 80, rel=0.1)
        assert xs.max() - xs.min() < 84 and ys.max() - ys.min() < 84
        assert abs(xs.mean() - x) < 3 and abs(ys.mean() - y) < 3


def test_watermark_opacity_blends() -> None:
    plain = run(corners_png(), "format=png")
    half = run(corners_png(), "watermark=@logo&watermark.opacity=0.5", watermark=logo_png())
    # Over white (bottom-right), half magenta is (255, 128, 255).
    assert near(colour(half, 170, 80), (255, 128, 255), 6)
    assert colour(plain, 170, 80) == WHITE


def test_watermark_on_a_rotated_image_stays_upright_in_its_corner() -> None:
    out = run(corners_png(), "rotate=90&watermark=@logo&watermark.scale=0.5", watermark=logo_png())
    assert out.shape[:2] == (200, 100)
    assert near(colour(out, 75, 175), (255, 0, 255))
    assert near(colour(out, 2, 2), BLUE)


def test_trim_removes_a_uniform_border() -> None:
    framed = (
        pyvips.Image.new_from_buffer(photo(), "")
        .embed(30, 20, 572, 552, extend="background", background=[250, 250, 250])
        .pngsave_buffer()
    )
    out = run(bytes(framed), "trim.threshold=20")
    assert out.shape[:2] == (512, 512)
    assert near(colour(out, 0, 0), colour(run(photo(), ""), 0, 0))
    untrimmed = run(bytes(framed), "format=png")
    assert untrimmed.shape[:2] == (552, 572)
    # Trim happens before the fit: w=256 is half the photo, not half the frame.
    assert run(bytes(framed), "trim.threshold=20&w=256").shape[:2] == (256, 256)


def test_trim_of_a_uniform_image_keeps_it() -> None:
    flat = pyvips.Image.black(50, 40, bands=3).copy(interpretation="srgb") + 90
    out = run(bytes(flat.cast("uchar").pngsave_buffer()), "trim.threshold=10")
    assert out.shape[:2] == (40, 50)
