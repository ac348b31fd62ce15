"""Rendering with libvips: promised size and format, crops that keep the focal point, padding,
alpha, orientation, metadata stripping. Images are drawn here or come from scikit-image."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import pyvips
import skimage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banatie.delivery.transform import (
    ANCHORS,
    MIME_TYPES,
    RenderError,
    TransformSpec,
    negotiate_format,
    output_size,
    parse_transform,
    probe,
    render,
)

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
LOADERS = {"jpeg": "jpegload", "png": "pngload", "webp": "webpload", "avif": "heifload"}
METADATA = ("exif-data", "xmp-data", "iptc-data", "icc-profile-data", "orientation")


def from_array(array: np.ndarray) -> pyvips.Image:
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array))
    bands = image.bands
    return image.copy(interpretation="b-w" if bands < 3 else "srgb")


def gradient(width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack(
        [
            np.broadcast_to(x, (height, width)),
            np.broadcast_to(y, (height, width)),
            (x + y) / 2 + 0 * y,
        ],
        axis=-1,
    )
    return rgb.astype(np.uint8)


def decode(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(decode(data).numpy())


def query(text: str) -> TransformSpec:
    return parse_transform(dict(part.split("=", 1) for part in text.split("&") if part))


@cache
def sources() -> dict[str, bytes]:
    rgb = from_array(gradient(240, 160))
    alpha = np.zeros((150, 200), dtype=np.uint8)
    alpha[:, 100:] = 255
    rgba = from_array(np.dstack([gradient(200, 150), alpha]))
    grey = from_array(gradient(160, 240)[:, :, 0])
    return {
        "rgb.png": bytes(rgb.pngsave_buffer()),
        "rgba.png": bytes(rgba.pngsave_buffer()),
        "rgb.jpg": bytes(rgb.jpegsave_buffer(Q=90)),
        "rgba.webp": bytes(rgba.webpsave_buffer(Q=90)),
        "grey.png": bytes(grey.pngsave_buffer()),
        "tiny.png": bytes(from_array(gradient(3, 2)).pngsave_buffer()),
        "logo.png": (SKIMAGE_DATA / "logo.png").read_bytes(),
        "rocket.jpg": (SKIMAGE_DATA / "rocket.jpg").read_bytes(),
    }


@cache
def astronaut_1344x768() -> bytes:
    """A Gemini-sized 16:9 PNG made from a real photo."""
    photo = pyvips.Image.new_from_file(str(SKIMAGE_DATA / "astronaut.png"))
    return bytes(photo.resize(1344 / 512, vscale=768 / 512).pngsave_buffer())


def check(data: bytes, fmt: str, size: tuple[int, int]) -> pyvips.Image:
    image = decode(data)
    assert str(image.get("vips-loader")).startswith(LOADERS[fmt])
    assert (image.width, image.height) == size
    for name in METADATA:
        assert not image.get_typeof(name), f"{name} survived"
    return image


# ------------------------------------------------------------------------------------------
# Every accepted parameter set yields the promised size and format


@st.composite
def transform_queries(draw: st.DrawFn) -> dict[str, str]:
    params: dict[str, str] = {}
    if draw(st.booleans()):
        params[draw(st.sampled_from(["w", "width"]))] = str(draw(st.integers(1, 400)))
    if draw(st.booleans()):
        params[draw(st.sampled_from(["h", "height"]))] = str(draw(st.integers(1, 400)))
    params["mode"] = draw(st.sampled_from(["max", "pad", "crop", "stretch"]))
    params["scale"] = draw(st.sampled_from(["down", "both", "canvas"]))
    if draw(st.booleans()):
        params["anchor"] = draw(st.sampled_from(list(ANCHORS)))
    if draw(st.booleans()):
        params["c.gravity"] = f"{draw(st.integers(0, 100))},{draw(st.integers(0, 100))}"
    if draw(st.booleans()):
        params["dpr"] = draw(st.sampled_from(["1", "1.5", "2"]))
    if draw(st.booleans()):
        params["quality"] = str(draw(st.integers(1, 100)))
    if draw(st.booleans()):
        params["bgcolor"] = draw(
            st.sampled_from(["fff", "000000", "ff000080", "transparent", "red"])
        )
    params[draw(st.sampled_from(["format", "fmt"]))] = draw(
        st.sampled_from(["auto", "webp", "jpeg", "jpg", "png", "avif"])
    )
    return params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=transform_queries(),
    source=st.sampled_from(["rgb.png", "rgba.png", "rgb.jpg", "rgba.webp", "grey.png", "tiny.png"]),
    accept=st.sampled_from([None, "*/*", "image/webp,*/*", "image/avif,image/webp,*/*"]),
    focal=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_render_yields_promised_size_and_format(
    params: dict[str, str], source: str, accept: str | None, focal: tuple[float, float]
) -> None:
    data = sources()[source]
    spec = parse_transform(params)
    info = probe(data)
    fmt = negotiate_format(
        spec.format, accept, has_alpha=info.has_alpha, source_mime=info.mime or ""
    )
    out = render(data, spec, output_format=fmt, focal=focal)
    image = check(out, fmt, output_size(spec, info.width, info.height))
    if fmt == "jpeg":
        assert image.bands in (1, 3)


@pytest.mark.parametrize(
    ("text", "fmt", "size"),
    [
        ("w=400&h=300&mode=crop&format=webp", "webp", (400, 300)),
        ("w=400&h=300&mode=crop&format=avif", "avif", (400, 300)),
        ("w=400&h=300&mode=pad&format=png", "png", (400, 300)),
        ("w=400&h=300&format=jpeg", "jpeg", (400, 229)),
        ("w=300&dpr=2&format=webp", "webp", (600, 343)),
        ("w=4000&format=jpeg", "jpeg", (1344, 768)),
        ("w=2000&scale=both&format=jpeg", "jpeg", (2000, 1143)),
        ("h=100&mode=stretch&format=png", "png", (175, 100)),
        ("w=100&h=100&mode=stretch&format=webp", "webp", (100, 100)),
        ("format=jpg", "jpeg", (1344, 768)),
    ],
)
def test_real_photo(text: str, fmt: str, size: tuple[int, int]) -> None:
    spec = query(text)
    assert output_size(spec, 1344, 768) == size
    check(render(astronaut_1344x768(), spec, output_format=fmt), fmt, size)


def test_identity_reencodes_at_source_size() -> None:
    data = sources()["rgb.png"]
    check(render(data, TransformSpec(), output_format="webp"), "webp", (240, 160))


def test_quality_changes_size() -> None:
    data = astronaut_1344x768()
    low = render(data, query("w=400&quality=10"), output_format="jpeg")
    high = render(data, query("w=400&quality=95"), output_format="jpeg")
    assert len(low) < len(high) / 2


# ------------------------------------------------------------------------------------------
# Crops keep the focal point


@cache
def marked_source() -> bytes:
    """Dark 400x300 with a bright 30x30 square centred at (95%, 5%)."""
    array = np.full((300, 400, 3), 20, dtype=np.uint8)
    array[0:30, 365:395] = 255
    return bytes(from_array(array).pngsave_buffer())


@settings(max_examples=40, deadline=None)
@given(
    w=st.integers(32, 400),
    h=st.integers(32, 400),
    scale=st.sampled_from(["down", "both", "canvas"]),
    how=st.sampled_from(["focal", "gravity", "anchor"]),
)
def test_focal_point_near_edge_stays_in_every_crop(w: int, h: int, scale: str, how: str) -> None:
    params = {"w": str(w), "h": str(h), "mode": "crop", "scale": scale, "format": "png"}
    focal = (0.5, 0.5)
    if how == "focal":
        focal = (0.95, 0.05)
    elif how == "gravity":
        params["c.gravity"] = "95,5"
    else:
        params["anchor"] = "topright"
    out = render(marked_source(), parse_transform(params), output_format="png", focal=focal)
    array = pixels(out)
    assert array.shape[:2] == (output_size(parse_transform(params), 400, 300)[::-1])
    assert array.max() > 200, "the marked square was cropped away"


def test_centre_crop_loses_the_corner_square() -> None:
    # The control for the test above: without the focal point the square is cut off.
    out = render(marked_source(), query("w=100&h=300&mode=crop"), output_format="png")
    assert pixels(out).max() < 100


def test_gravity_and_anchor_override_stored_focal_point() -> None:
    out = render(
        marked_source(),
        query("w=100&h=300&mode=crop&c.gravity=0,0"),
        output_format="png",
        focal=(0.95, 0.05),
    )
    assert pixels(out).max() < 100


@cache
def two_colours(vertical: bool) -> bytes:
    """400x200, left red and right green; or (vertical) 200x400, top red and bottom blue."""
    if vertical:
        array = np.zeros((400, 200, 3), dtype=np.uint8)
        array[:200] = (255, 0, 0)
        array[200:] = (0, 0, 255)
    else:
        array = np.zeros((200, 400, 3), dtype=np.uint8)
        array[:, :200] = (255, 0, 0)
        array[:, 200:] = (0, 255, 0)
    return bytes(from_array(array).pngsave_buffer())


COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255)}


@pytest.mark.parametrize(
    ("text", "focal", "colour"),
    [
        # 400x200 left red / right green, cropped to 50x100: a quarter of the width.
        ("w=50&h=100&mode=crop&anchor=topleft", (0.9, 0.5), "red"),
        ("w=50&h=100&mode=crop&anchor=middleleft", (0.9, 0.5), "red"),
        ("w=50&h=100&mode=crop&anchor=bottomright", (0.1, 0.5), "green"),
        ("w=50&h=100&mode=crop&c.gravity=90,10", (0.1, 0.5), "green"),
        ("w=50&h=100&mode=crop&c.gravity=10,90&anchor=topright", (0.9, 0.5), "red"),
        ("w=50&h=100&mode=crop", (0.1, 0.5), "red"),
        ("w=50&h=100&mode=crop", (0.9, 0.5), "green"),
        ("w=50&h=100&mode=crop", (1.0, 1.0), "green"),
        ("w=50&h=100&mode=crop", (0.0, 0.0), "red"),
        # 200x400 top red / bottom blue, cropped to 100x50.
        ("w=100&h=50&mode=crop&anchor=topcenter", (0.5, 0.9), "red"),
        ("w=100&h=50&mode=crop&anchor=bottomleft", (0.5, 0.1), "blue"),
        ("w=100&h=50&mode=crop", (0.5, 0.2), "red"),
        ("w=100&h=50&mode=crop", (0.5, 0.8), "blue"),
        ("w=100&h=50&mode=crop&c.gravity=0,100", (0.5, 0.0), "blue"),
    ],
)
def test_crop_position(text: str, focal: tuple[float, float], colour: str) -> None:
    spec = query(text)
    source = two_colours(vertical=spec.width == 100)
    out = pixels(render(source, spec, output_format="png", focal=focal)).astype(int)
    assert out.shape[:2] == (spec.height, spec.width)
    assert np.abs(out[..., :3] - COLOURS[colour]).max() <= 8


# ------------------------------------------------------------------------------------------
# Padding, background and alpha


def test_pad_png_defaults_to_transparent() -> None:
    out = render(sources()["rgb.png"], query("w=100&h=100&mode=pad"), output_format="png")
    array = pixels(out)
    assert array.shape == (100, 100, 4)
    assert array[0, 0, 3] == 0 and array[99, 99, 3] == 0
    assert array[50, 50, 3] == 255


def test_pad_jpeg_defaults_to_white() -> None:
    out = render(sources()["rgb.png"], query("w=100&h=100&mode=pad"), output_format="jpeg")
    array = pixels(out).astype(int)
    assert array.shape == (100, 100, 3)
    assert np.abs(array[0, 0] - 255).max() <= 3


@pytest.mark.parametrize("fmt", ["png", "webp", "jpeg", "avif"])
def test_pad_with_bgcolor(fmt: str) -> None:
    spec = query("w=100&h=100&mode=pad&bgcolor=ff0000")
    array = pixels(render(sources()["rgb.png"], spec, output_format=fmt)).astype(int)
    assert np.abs(array[0, 0, :3] - (255, 0, 0)).max() <= 12
    assert array.shape[2] in (3, 4)
    if array.shape[2] == 4:
        assert array[0, 0, 3] == 255


def test_pad_anchor_places_the_image() -> None:
    spec = query("w=100&h=100&mode=pad&anchor=topleft&bgcolor=000")
    array = pixels(render(sources()["rgb.png"], spec, output_format="png"))
    # 240x160 fits as 100x67 at the top: the bottom rows are padding.
    assert array[:67, 99].max() > 150
    assert array[68:, :].max() == 0


def test_scale_canvas_pads_instead_of_enlarging() -> None:
    spec = query("w=400&h=300&mode=crop&scale=canvas&bgcolor=000")
    out = render(sources()["rgb.png"], spec, output_format="png")
    array = pixels(out)
    assert array.shape == (300, 400, 3)
    # The 240x160 source sits unscaled in the middle.
    assert array[:70].max() == 0 and array[231:].max() == 0
    assert array[70:230, 80:320].max() > 200


def test_alpha_flattened_onto_white_for_jpeg() -> None:
    out = render(sources()["rgba.png"], TransformSpec(), output_format="jpeg")
    array = pixels(out).astype(int)
    assert array.shape == (150, 200, 3)
    assert np.abs(array[75, 20] - 255).max() <= 3  # was transparent


def test_alpha_flattened_onto_bgcolor_for_jpeg() -> None:
    spec = query("bgcolor=000&format=jpeg")
    array = pixels(render(sources()["rgba.png"], spec, output_format="jpeg")).astype(int)
    assert array[75, 20].max() <= 3


def test_translucent_bgcolor_is_blended_over_white_for_jpeg() -> None:
    spec = query("w=100&h=100&mode=pad&bgcolor=00000080")
    array = pixels(render(sources()["rgb.png"], spec, output_format="jpeg")).astype(int)
    assert np.abs(array[0, 0] - 127).max() <= 4


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_alpha_is_kept(fmt: str) -> None:
    array = pixels(render(sources()["rgba.png"], query("w=100"), output_format=fmt))
    assert array.shape[2] == 4
    assert array[30, 10, 3] < 10 and array[30, 90, 3] > 245


def test_grey_source_padded_with_a_colour_becomes_rgb() -> None:
    spec = query("w=100&h=100&mode=pad&bgcolor=00ff00")
    array = pixels(render(sources()["grey.png"], spec, output_format="png"))
    assert array.shape == (100, 100, 3)
    assert tuple(array[0, 0]) == (0, 255, 0)


def test_sixteen_bit_png_comes_out_eight_bit() -> None:
    image = (from_array(gradient(64, 32)).cast("ushort") * 257).cast("ushort")
    data = bytes(image.copy(interpretation="rgb16").pngsave_buffer(bitdepth=16))
    out = decode(render(data, query("w=32"), output_format="png"))
    assert out.format == "uchar" and (out.width, out.height) == (32, 16)


# ------------------------------------------------------------------------------------------
# Orientation, metadata, errors


@cache
def rotated_jpeg() -> bytes:
    """Stored 300x200, EXIF orientation 6: displayed 200x300."""
    image = from_array(gradient(300, 200)).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    return bytes(image.jpegsave_buffer(Q=90, profile="srgb"))


def test_exif_orientation_is_applied_and_stripped() -> None:
    data = rotated_jpeg()
    assert decode(data).get("orientation") == 6
    assert decode(data).get_typeof("icc-profile-data")
    info = probe(data)
    assert (info.width, info.height) == (200, 300)
    spec = query("w=100")
    assert output_size(spec, info.width, info.height) == (100, 150)
    check(render(data, spec, output_format="jpeg"), "jpeg", (100, 150))
    check(render(data, query("w=50&h=50&mode=crop"), output_format="webp"), "webp", (50, 50))


def test_probe() -> None:
    info = probe(sources()["rgba.webp"])
    assert (info.width, info.height, info.has_alpha, info.mime) == (200, 150, True, "image/webp")
    assert probe(sources()["rgb.jpg"]).mime == "image/jpeg"
    assert probe(sources()["rgb.png"]).has_alpha is False
    avif = render(sources()["rgb.png"], query("w=10"), output_format="avif")
    assert probe(avif).mime == "image/avif"


@pytest.mark.parametrize("data", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_undecodable_source_raises_render_error(data: bytes) -> None:
    with pytest.raises(RenderError):
        render(data, query("w=10"), output_format="png")


def test_unknown_output_format_is_rejected() -> None:
    with pytest.raises(ValueError):
        render(sources()["rgb.png"], TransformSpec(), output_format="bmp")


def test_mime_types_cover_every_output_format() -> None:
    assert set(MIME_TYPES) == set(LOADERS)


def test_render_is_thread_safe_and_deterministic() -> None:
    data = astronaut_1344x768()
    spec = query("w=400&h=300&mode=crop&format=webp")
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda _: render(data, spec, output_format="webp"), range(8)))
    assert len(set(outputs)) == 1


# ------------------------------------------------------------------------------------------
# Decoding once: a PNG's decoded pixels render like the PNG itself


def _mean_abs_diff(a: bytes, b: bytes) -> float:
    x = pixels(a).astype(np.int16)
    y = pixels(b).astype(np.int16)
    assert x.shape == y.shape
    return float(np.abs(x - y).mean())


@pytest.mark.parametrize("name", ["rgb.png", "rgba.png", "grey.png", "tiny.png", "logo.png"])
@pytest.mark.parametrize(
    "text",
    ["w=100&h=80&mode=crop", "w=90&h=90&mode=pad&bgcolor=ff000080", "w=70", "h=500&scale=both"],
)
def test_decoded_pixels_render_like_the_original(name: str, text: str) -> None:
    from banatie.delivery.transform import DECODED_MAGIC, decode_once

    source = sources()[name]
    decoded = decode_once(source)
    assert decoded.startswith(DECODED_MAGIC)
    spec = query(text)
    for fmt in ("png", "webp", "jpeg"):
        direct = render(source, spec, output_format=fmt, focal=(0.2, 0.7))
        via = render(decoded, spec, output_format=fmt, focal=(0.2, 0.7))
        check(via, fmt, output_size(spec, *source_size(source)))
        assert decode(via).bands == decode(direct).bands
        assert _mean_abs_diff(direct, via) < 2.0


def source_size(data: bytes) -> tuple[int, int]:
    info = probe(data)
    return info.width, info.height


def test_decoded_pixels_are_upright_srgb_eight_bit() -> None:
    from banatie.delivery.transform import decode_once

    sixteen = from_array(gradient(60, 40).astype(np.uint16) * 257).cast("ushort")
    data = bytes(sixteen.copy(interpretation="rgb16").pngsave_buffer())
    out = render(decode_once(data), query("w=30"), output_format="png")
    assert decode(out).format == "uchar" and decode(out).width == 30
    rotated = from_array(gradient(80, 40)).copy()
    rotated.set_type(pyvips.GValue.gint_type, "orientation", 6)
    jpeg = bytes(rotated.jpegsave_buffer())
    upright = render(decode_once(jpeg), query("w=20"), output_format="png")
    assert (decode(upright).width, decode(upright).height) == (20, 40)


def test_corrupt_decoded_pixels_are_a_render_error() -> None:
    from banatie.delivery.transform import DECODED_MAGIC, decode_once

    decoded = decode_once(sources()["rgb.png"])
    with pytest.raises(RenderError):
        render(decoded[:-10], query("w=10"), output_format="png")
    with pytest.raises(RenderError):
        render(DECODED_MAGIC + b"garbage", query("w=10"), output_format="png")
    with pytest.raises(RenderError):
        decode_once(b"\x89PNG not really")
