"""Parsing, canonical form, format negotiation and output geometry of image transforms."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banatie.delivery.params import (
    ANCHORS,
    DEFAULT_QUALITY,
    MIME_TYPES,
    TransformError,
    TransformSpec,
    check_output_size,
    format_from_mime,
    negotiate_format,
    output_size,
    parse_transform,
    plan_layout,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
FIREFOX_OLD = "image/webp,*/*"
CURL = "*/*"


def parse(query: str, **kwargs: int | float) -> TransformSpec:
    return parse_transform(dict(parse_qsl(query, keep_blank_values=True)), **kwargs)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Bad values


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("w=0", "w"),
        ("w=-5", "w"),
        ("w=100000", "w"),
        ("w=abc", "w"),
        ("w=1.5", "w"),
        ("w=", "w"),
        ("width=0", "width"),
        ("h=0", "h"),
        ("height=9000", "height"),
        ("dpr=9", "dpr"),
        ("dpr=0.5", "dpr"),
        ("dpr=abc", "dpr"),
        ("dpr=nan", "dpr"),
        ("w=4000&dpr=4", "dpr"),
        ("quality=0", "quality"),
        ("quality=101", "quality"),
        ("quality=high", "quality"),
        ("mode=zoom", "mode"),
        ("scale=up", "scale"),
        ("anchor=center", "anchor"),
        ("c.gravity=abc", "c.gravity"),
        ("c.gravity=50", "c.gravity"),
        ("c.gravity=101,5", "c.gravity"),
        ("c.gravity=-1,5", "c.gravity"),
        ("c.gravity=1,2,3", "c.gravity"),
        ("format=bmp", "format"),
        ("fmt=gif", "fmt"),
        ("bgcolor=zzz", "bgcolor"),
        ("bgcolor=12345", "bgcolor"),
        ("bgcolor=rebeccapurple", "bgcolor"),
    ],
)
def test_bad_values_raise_naming_the_param(query: str, param: str) -> None:
    with pytest.raises(TransformError) as info:
        parse(query)
    err = info.value
    assert isinstance(err, Exception)
    assert err.param == param
    assert param in err.message
    assert str(err) == err.message


def test_error_message_says_what_is_allowed() -> None:
    with pytest.raises(TransformError) as info:
        parse("w=0")
    assert "1 to 8192" in info.value.message
    with pytest.raises(TransformError) as info:
        parse("mode=zoom")
    assert "crop" in info.value.message and "zoom" in info.value.message
    with pytest.raises(TransformError) as info:
        parse("format=bmp")
    assert "webp" in info.value.message


def test_limits_are_configurable() -> None:
    assert parse("w=100", max_dimension=100).width == 100
    with pytest.raises(TransformError):
        parse("w=101", max_dimension=100)
    assert parse("w=10&dpr=3", max_dpr=3).width == 30
    with pytest.raises(TransformError):
        parse("dpr=3.5", max_dpr=3)


def test_alias_given_twice_with_different_values_is_an_error() -> None:
    with pytest.raises(TransformError):
        parse("w=100&width=200")
    assert parse("w=100&width=100").width == 100


def test_unknown_parameters_are_ignored() -> None:
    assert parse("w=10&foo=bar&sig=abc&crop=1").canonical() == "w=10"
    assert parse("utm_source=x").is_identity


def test_keys_and_enum_values_are_case_insensitive() -> None:
    assert parse("W=100&MODE=Crop&H=50&Format=JPG") == parse("w=100&mode=crop&h=50&format=jpeg")


def test_huge_value_is_not_echoed_whole() -> None:
    with pytest.raises(TransformError) as info:
        parse("mode=" + "x" * 5000)
    assert len(info.value.message) < 300


# ------------------------------------------------------------------------------------------
# Canonical form


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", ""),
        ("mode=crop", ""),
        ("mode=max&scale=down&dpr=1", ""),
        ("dpr=2", ""),
        ("anchor=topleft&c.gravity=10,10&bgcolor=red", ""),
        ("w=400", "w=400"),
        ("width=200&dpr=2", "w=400"),
        ("w=333&dpr=1.5", "w=500"),
        ("w=400&mode=crop", "w=400"),
        ("w=400&h=300&mode=max", "w=400&h=300"),
        ("h=300&w=400&mode=crop", "w=400&h=300&mode=crop"),
        ("w=4&h=3&mode=crop&anchor=topleft", "w=4&h=3&mode=crop&c.gravity=0,0"),
        ("w=4&h=3&mode=crop&anchor=bottomcenter", "w=4&h=3&mode=crop&c.gravity=50,100"),
        ("w=4&h=3&mode=crop&anchor=topleft&c.gravity=95,5", "w=4&h=3&mode=crop&c.gravity=95,5"),
        ("w=4&h=3&mode=crop&c.gravity=95.001,5.50", "w=4&h=3&mode=crop&c.gravity=95,5.5"),
        ("w=4&h=3&mode=pad&anchor=middlecenter", "w=4&h=3&mode=pad"),
        ("w=4&h=3&mode=pad&anchor=topleft&c.gravity=1,1", "w=4&h=3&mode=pad&anchor=topleft"),
        ("w=4&h=3&anchor=topleft", "w=4&h=3"),
        ("w=4&h=3&anchor=topleft&scale=canvas", "w=4&h=3&scale=canvas&anchor=topleft"),
        ("w=4&h=3&mode=pad&bgcolor=FFF", "w=4&h=3&mode=pad&bgcolor=ffffff"),
        ("w=4&h=3&mode=pad&bgcolor=%23ffffff80", "w=4&h=3&mode=pad&bgcolor=ffffff80"),
        ("w=4&h=3&mode=pad&bgcolor=transparent", "w=4&h=3&mode=pad"),
        ("w=4&h=3&mode=pad&bgcolor=12345600", "w=4&h=3&mode=pad"),
        ("w=4&bgcolor=white", "w=4"),
        ("bgcolor=white&format=jpg", "bgcolor=ffffff&format=jpeg"),
        ("format=jpg&quality=82", "format=jpeg"),
        ("fmt=webp&quality=82", "format=webp"),
        ("format=avif&quality=55", "format=avif"),
        ("format=avif&quality=82", "format=avif&quality=82"),
        ("format=png&quality=40", "format=png"),
        ("format=auto&quality=82", "format=auto&quality=82"),
        ("quality=82", "quality=82"),
        ("scale=both", ""),
        ("w=10&scale=both", "w=10&scale=both"),
        ("w=10&scale=downscaleonly", "w=10"),
    ],
)
def test_canonical(query: str, canonical: str) -> None:
    spec = parse(query)
    assert spec.canonical() == canonical
    assert spec.is_identity == (canonical == "")
    assert parse(canonical) == spec  # the canonical string parses back to the same spec


def test_spec_is_hashable_and_equal_by_meaning() -> None:
    specs = {parse("w=400&fmt=jpg"), parse("width=400&format=jpeg&quality=82&mode=max")}
    assert len(specs) == 1


def test_with_format_and_quality_for() -> None:
    spec = parse("w=10&format=auto")
    assert spec.with_format("avif").canonical() == "w=10&format=avif"
    assert spec.quality_for("avif") == DEFAULT_QUALITY["avif"]
    assert spec.quality_for("jpeg") == DEFAULT_QUALITY["jpeg"]
    assert parse("quality=30").quality_for("webp") == 30


ANCHOR_NAMES = list(ANCHORS)


@st.composite
def meanings(draw: st.DrawFn) -> dict[str, object]:
    """A transform described by its meaning, to be spelled in many ways."""
    fmt = draw(st.sampled_from([None, "auto", "webp", "avif", "jpeg", "png"]))
    return {
        "w": draw(st.none() | st.integers(1, 4000)),
        "h": draw(st.none() | st.integers(1, 4000)),
        "mode": draw(st.sampled_from(["max", "pad", "crop", "stretch"])),
        "scale": draw(st.sampled_from(["down", "both", "canvas"])),
        "anchor": draw(st.none() | st.sampled_from(ANCHOR_NAMES)),
        "gravity": draw(st.none() | st.tuples(st.integers(0, 100), st.integers(0, 100))),
        "format": fmt,
        "quality": draw(st.none() | st.integers(1, 100)),
        "bgcolor": draw(
            st.none()
            | st.tuples(
                st.integers(0, 255),
                st.integers(0, 255),
                st.integers(0, 255),
                st.sampled_from([0, 128, 255]),
            )
        ),
    }


def _hex_spellings(rgba: tuple[int, int, int, int]) -> list[str]:
    r, g, b, a = rgba
    out = [f"{r:02x}{g:02x}{b:02x}{a:02x}", f"{r:02X}{g:02X}{b:02X}{a:02X}"]
    if a == 255:
        out += [f"{r:02x}{g:02x}{b:02x}", f"#{r:02x}{g:02x}{b:02x}"]
        if all(c % 17 == 0 for c in (r, g, b)):
            out.append(f"{r // 17:x}{g // 17:x}{b // 17:x}")
        if (r, g, b) == (255, 255, 255):
            out.append("white")
        if (r, g, b) == (0, 0, 0):
            out.append("Black")
    if a == 0:
        out.append("transparent")
    return out


@st.composite
def spellings(draw: st.DrawFn, meaning: dict[str, object]) -> dict[str, str]:
    """One random way of writing ``meaning`` as query parameters, in random order."""
    items: list[tuple[str, str]] = []
    w, h = meaning["w"], meaning["h"]
    assert w is None or isinstance(w, int)
    assert h is None or isinstance(h, int)
    use_dpr = w is not None and w % 2 == 0 and (h is None or h % 2 == 0) and draw(st.booleans())
    if w is not None:
        value = w // 2 if use_dpr else w
        items.append((draw(st.sampled_from(["w", "width", "Width"])), f"{value}"))
    if h is not None:
        value = h // 2 if use_dpr else h
        items.append(
            (draw(st.sampled_from(["h", "height"])), draw(st.sampled_from(["", "0"])) + f"{value}")
        )
    if use_dpr:
        items.append(("dpr", draw(st.sampled_from(["2", "2.0", "2x"]))))
    elif draw(st.booleans()):
        items.append(("dpr", "1"))
    for key, default in (("mode", "max"), ("scale", "down")):
        text = str(meaning[key])
        if text != default or draw(st.booleans()):
            items.append((key, draw(st.sampled_from([text, text.upper()]))))
    if meaning["anchor"] is not None:
        items.append(("anchor", str(meaning["anchor"])))
    gravity = meaning["gravity"]
    if isinstance(gravity, tuple):
        gx, gy = gravity
        items.append(("c.gravity", draw(st.sampled_from([f"{gx},{gy}", f"{gx}.0, {gy}"]))))
    fmt = meaning["format"]
    if isinstance(fmt, str):
        names = ["jpeg", "jpg", "JPG"] if fmt == "jpeg" else [fmt, fmt.upper()]
        items.append((draw(st.sampled_from(["format", "fmt"])), draw(st.sampled_from(names))))
    quality = meaning["quality"]
    if isinstance(quality, int):
        items.append(("quality", str(quality)))
    elif isinstance(fmt, str) and fmt in DEFAULT_QUALITY and draw(st.booleans()):
        items.append(("quality", str(DEFAULT_QUALITY[fmt])))  # the default, spelled out
    bgcolor = meaning["bgcolor"]
    if isinstance(bgcolor, tuple):
        items.append(("bgcolor", draw(st.sampled_from(_hex_spellings(bgcolor)))))
    elif draw(st.booleans()):
        items.append(("bgcolor", "transparent"))
    if draw(st.booleans()):
        items.append(("utm_campaign", "spring"))  # unknown: ignored
    return dict(draw(st.permutations(items)))


@FAST
@given(data=st.data(), meaning=meanings())
def test_canonical_is_stable_under_order_aliases_and_defaults(
    data: st.DataObject, meaning: dict[str, object]
) -> None:
    first = parse_transform(data.draw(spellings(meaning)))
    second = parse_transform(data.draw(spellings(meaning)))
    assert first == second
    assert first.canonical() == second.canonical()
    # The canonical string is itself a spelling of the same transform.
    assert parse_transform(dict(parse_qsl(first.canonical()))) == first
    assert first.is_identity == (first.canonical() == "")


@FAST
@given(meaning=meanings())
def test_canonical_has_fixed_order_and_no_defaults(meaning: dict[str, object]) -> None:
    query = {k: str(v) for k, v in meaning.items() if v is not None and not isinstance(v, tuple)}
    spec = parse_transform(query)
    keys = [part.split("=", 1)[0] for part in spec.canonical().split("&") if part]
    order = ["w", "h", "mode", "scale", "anchor", "c.gravity", "bgcolor", "format", "quality"]
    assert keys == sorted(keys, key=order.index)
    assert "mode=max" not in spec.canonical()
    assert "scale=down" not in spec.canonical()


# ------------------------------------------------------------------------------------------
# Format negotiation


@pytest.mark.parametrize(
    ("accept", "has_alpha", "expected"),
    [
        (CHROME, False, "avif"),
        (CHROME, True, "avif"),
        (SAFARI, False, "webp"),
        (SAFARI, True, "webp"),
        (FIREFOX_OLD, False, "webp"),
        (CURL, False, "jpeg"),
        (CURL, True, "png"),
        (None, False, "jpeg"),
        (None, True, "png"),
        ("", True, "png"),
        ("image/avif;q=0,image/webp", False, "webp"),
        ("image/avif;q=0, image/webp;q=0", False, "jpeg"),
        ("image/webp;q=0.9,image/avif;q=0.5", False, "webp"),
        ("IMAGE/AVIF", False, "avif"),
        ("image/avif;q=abc,image/webp", False, "webp"),
        ("text/html,application/xhtml+xml", False, "jpeg"),
    ],
)
def test_negotiate_auto(accept: str | None, has_alpha: bool, expected: str) -> None:
    got = negotiate_format("auto", accept, has_alpha=has_alpha, source_mime="image/png")
    assert got == expected
    assert got in MIME_TYPES


@pytest.mark.parametrize("fmt", ["webp", "avif", "jpeg", "png"])
def test_negotiate_explicit_format_wins(fmt: str) -> None:
    assert negotiate_format(fmt, CURL, has_alpha=True, source_mime="image/png") == fmt
    assert negotiate_format(fmt, CHROME, has_alpha=False, source_mime="image/jpeg") == fmt


@pytest.mark.parametrize(
    ("mime", "has_alpha", "expected"),
    [
        ("image/png", False, "png"),
        ("image/jpeg", False, "jpeg"),
        ("image/webp", True, "webp"),
        ("image/avif", False, "avif"),
        ("image/png; charset=binary", True, "png"),
        ("image/gif", True, "png"),
        ("image/gif", False, "jpeg"),
        ("application/octet-stream", False, "jpeg"),
    ],
)
def test_negotiate_without_format_keeps_source(mime: str, has_alpha: bool, expected: str) -> None:
    assert negotiate_format(None, CHROME, has_alpha=has_alpha, source_mime=mime) == expected


@pytest.mark.parametrize(
    ("spec_format", "accept", "mime", "has_alpha", "size", "expected"),
    [
        ("auto", CHROME, "image/png", False, (16384, 10), "avif"),
        ("auto", CHROME, "image/png", False, (16385, 10), "jpeg"),  # WebP stops at 16383
        ("auto", "image/avif,image/webp", "image/png", False, (10, 16384), "avif"),
        ("auto", "image/avif,image/webp", "image/png", True, (10, 16385), "png"),
        ("auto", "image/avif,image/webp", "image/png", False, (16383, 16383), "avif"),
        ("auto", "image/webp;q=0.9,image/avif", "image/png", False, (16384, 1), "avif"),
        ("auto", "image/avif;q=0.5,image/webp", "image/png", False, (16384, 1), "avif"),
        ("auto", "image/avif,image/webp", "image/png", False, (70000, 1), "png"),  # past JPEG
        (None, CHROME, "image/avif", False, (20000, 1), "jpeg"),
        (None, CHROME, "image/webp", True, (20000, 1), "png"),
    ],
)
def test_negotiate_skips_a_picked_format_that_cannot_encode_the_size(
    spec_format: str | None,
    accept: str,
    mime: str,
    has_alpha: bool,
    size: tuple[int, int],
    expected: str,
) -> None:
    got = negotiate_format(spec_format, accept, has_alpha=has_alpha, source_mime=mime, size=size)
    assert got == expected


@pytest.mark.parametrize(("fmt", "side"), [("avif", 16385), ("webp", 16384), ("jpeg", 65501)])
def test_negotiate_refuses_a_named_format_past_its_encoder(fmt: str, side: int) -> None:
    assert negotiate_format(fmt, None, has_alpha=False, source_mime="x", size=(side - 1, 1)) == fmt
    with pytest.raises(TransformError) as raised:
        negotiate_format(fmt, None, has_alpha=False, source_mime="x", size=(1, side))
    assert raised.value.param == "format"
    assert f"1x{side}" in raised.value.message


@pytest.mark.parametrize(
    ("query", "source", "expected"),
    [
        ("w=4096&scale=both", (1, 40000), "w"),
        ("h=100&scale=canvas", (40000, 1), "h"),
        ("w=4096&scale=both", (2, 2), None),  # 4096x4096: inside the box
        ("w=1&scale=down", (1, 40000), None),  # never larger than the source
        ("format=png", (40000, 1), None),  # the source's own size
        ("w=4096&h=4096&mode=pad&scale=both", (1, 40000), None),
    ],
)
def test_check_output_size(query: str, source: tuple[int, int], expected: str | None) -> None:
    spec = parse(query)
    if expected is None:
        assert check_output_size(spec, *source, max_dimension=4096) == output_size(spec, *source)
        return
    with pytest.raises(TransformError) as raised:
        check_output_size(spec, *source, max_dimension=4096)
    assert raised.value.param == expected
    assert "4096" in raised.value.message


def test_negotiate_rejects_unknown_explicit_format() -> None:
    with pytest.raises(TransformError):
        negotiate_format("bmp", None, has_alpha=False, source_mime="image/png")


def test_format_from_mime() -> None:
    assert format_from_mime("image/JPEG") == "jpeg"
    assert format_from_mime(None) is None
    assert format_from_mime("image/gif") is None
    assert all(format_from_mime(mime) == fmt for fmt, mime in MIME_TYPES.items())


# ------------------------------------------------------------------------------------------
# Geometry


def size(query: str, source: tuple[int, int]) -> tuple[int, int]:
    return output_size(parse(query), *source)


@pytest.mark.parametrize(
    ("query", "source", "expected"),
    [
        ("", (1344, 768), (1344, 768)),
        ("w=400", (1344, 768), (400, 229)),
        ("h=300", (1344, 768), (525, 300)),
        ("w=400&h=300", (1344, 768), (400, 229)),
        ("w=400&h=300&mode=pad", (1344, 768), (400, 300)),
        ("w=400&h=300&mode=crop", (1344, 768), (400, 300)),
        ("w=400&h=300&mode=stretch", (1344, 768), (400, 300)),
        ("w=400&mode=crop", (1344, 768), (400, 229)),
        ("w=200&dpr=2&h=150&mode=crop", (1344, 768), (400, 300)),
        # scale=down: never enlarge, shrink the box keeping its aspect ratio
        ("w=2000", (1344, 768), (1344, 768)),
        ("w=2000&h=1000&mode=crop", (1000, 1000), (1000, 500)),
        ("w=400&h=300&mode=crop", (200, 200), (200, 150)),
        ("w=400&h=300&mode=pad", (200, 200), (267, 200)),
        ("w=400&h=100&mode=stretch", (200, 200), (200, 50)),
        # scale=both: exactly what was asked
        ("w=2000&scale=both", (1344, 768), (2000, 1143)),
        ("w=400&h=300&mode=crop&scale=both", (200, 200), (400, 300)),
        ("w=400&h=300&mode=pad&scale=both", (200, 200), (400, 300)),
        # scale=canvas: the box of scale=both, the image at most 1:1
        ("w=400&h=300&mode=crop&scale=canvas", (200, 200), (400, 300)),
        ("w=400&h=300&mode=max&scale=canvas", (200, 100), (400, 200)),
    ],
)
def test_output_size(query: str, source: tuple[int, int], expected: tuple[int, int]) -> None:
    assert size(query, source) == expected


def test_canvas_does_not_enlarge_the_image() -> None:
    layout = plan_layout(parse("w=400&h=300&mode=crop&scale=canvas"), 200, 200)
    assert (layout.resize_width, layout.resize_height) == (200, 200)
    assert (layout.crop_width, layout.crop_height) == (200, 200)
    assert (layout.pad_left, layout.pad_top) == (100, 50)
    layout = plan_layout(parse("w=400&h=300&mode=pad&scale=canvas&anchor=topleft"), 200, 200)
    assert (layout.pad_left, layout.pad_top) == (0, 0)


def _close(a: float, b: float, n: int) -> bool:
    """a and b are equal up to the rounding of sides around n pixels long."""
    return abs(a - b) <= 1.0 / max(1, n - 1) * max(a, b) * 1.01 + 1e-9


sources = st.tuples(st.integers(1, 5000), st.integers(1, 5000))
dims = st.none() | st.integers(1, 3000)
modes = st.sampled_from(["max", "pad", "crop", "stretch"])
scales = st.sampled_from(["down", "both", "canvas"])


@settings(max_examples=400, deadline=None)
@given(source=sources, w=dims, h=dims, mode=modes, scale=scales)
def test_output_size_properties(
    source: tuple[int, int], w: int | None, h: int | None, mode: str, scale: str
) -> None:
    sw, sh = source
    spec = TransformSpec(width=w, height=h, mode=mode, scale=scale)  # type: ignore[arg-type]
    layout = plan_layout(spec, sw, sh)
    ow, oh = layout.width, layout.height
    assert ow >= 1 and oh >= 1
    # The layout is self-consistent.
    assert 0 <= layout.crop_left <= layout.resize_width - layout.crop_width
    assert 0 <= layout.crop_top <= layout.resize_height - layout.crop_height
    assert 0 <= layout.pad_left <= ow - layout.crop_width
    assert 0 <= layout.pad_top <= oh - layout.crop_height
    if w is None and h is None:
        assert (ow, oh) == (sw, sh)
        return
    if scale != "both":  # down and canvas never enlarge the image
        assert layout.resize_width <= sw and layout.resize_height <= sh
    if w is not None:
        assert ow <= w
    if h is not None:
        assert oh <= h
    both = w is not None and h is not None
    if both and mode != "max" and scale != "down":
        assert (ow, oh) == (w, h)
    elif both and mode != "max":
        # The requested aspect ratio, capped at 1:1 of the source.
        assert w is not None and h is not None
        assert (ow, oh) == (w, h) or ow == sw or oh == sh or layout.pads
        assert _close(ow / oh, w / h, min(ow, oh))
    else:
        # max (or a single dimension): the source aspect ratio, touching the box (or the source).
        if scale != "canvas":
            assert _close(ow / oh, sw / sh, min(ow, oh))
        limits = [v for v in (w, h) if v is not None]
        touches = ow in limits or oh in limits
        assert touches or (scale == "down" and (ow, oh) == (sw, sh)) or min(ow, oh) == 1


@settings(max_examples=400, deadline=None)
@given(
    source=sources,
    w=st.integers(1, 3000),
    h=st.integers(1, 3000),
    scale=scales,
    focal=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_focal_point_is_always_inside_the_crop(
    source: tuple[int, int], w: int, h: int, scale: str, focal: tuple[float, float]
) -> None:
    sw, sh = source
    spec = TransformSpec(width=w, height=h, mode="crop", scale=scale)  # type: ignore[arg-type]
    layout = plan_layout(spec, sw, sh, focal)
    fx, fy = focal[0] * layout.resize_width, focal[1] * layout.resize_height
    assert layout.crop_left - 1e-6 <= fx <= layout.crop_left + layout.crop_width + 1e-6
    assert layout.crop_top - 1e-6 <= fy <= layout.crop_top + layout.crop_height + 1e-6
    # ...and as central as the edges allow.
    if layout.crop_left not in (0, layout.resize_width - layout.crop_width):
        assert abs(layout.crop_left + layout.crop_width / 2 - fx) <= 1
    if layout.crop_top not in (0, layout.resize_height - layout.crop_height):
        assert abs(layout.crop_top + layout.crop_height / 2 - fy) <= 1


def test_gravity_overrides_focal_point() -> None:
    spec = parse("w=100&h=50&mode=crop&c.gravity=0,100")
    layout = plan_layout(spec, 400, 400, focal=(0.9, 0.1))
    assert (layout.resize_width, layout.resize_height) == (100, 100)
    assert (layout.crop_left, layout.crop_top) == (0, 50)
    anchored = plan_layout(parse("w=100&h=100&mode=crop&anchor=topright"), 400, 200, (0.1, 0.9))
    assert (anchored.crop_left, anchored.crop_top) == (100, 0)


def test_focal_point_is_sanitised() -> None:
    spec = parse("w=100&h=100&mode=crop")
    assert plan_layout(spec, 400, 200, (math.nan, 2.0)).crop_left == 50
    assert plan_layout(spec, 400, 200, (-1.0, 0.5)).crop_left == 0
