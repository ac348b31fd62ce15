"""Parsing the effects (rotate, flip, trim, filters, colour, watermark), presets and strict mode:
every input is a spec or a 400 with a code, and a spec's canonical form parses back to itself."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banatie.delivery.effects import EFFECT_PARAMS
from banatie.delivery.params import TransformError, TransformSpec, output_size, parse_transform
from banatie.delivery.presets import DEFAULT_PRESETS

PRESETS = {p.name: dict(parse_qsl(p.query)) for p in DEFAULT_PRESETS}


def parse(query: str, **kwargs: object) -> TransformSpec:
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    return parse_transform(pairs, presets=PRESETS, **kwargs)  # type: ignore[arg-type]


def error(query: str) -> TransformError:
    with pytest.raises(TransformError) as caught:
        parse(query)
    return caught.value


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("rotate=90", "rotate=90"),
        ("rotate=-90", "rotate=270"),
        ("rotate=450", "rotate=90"),
        ("rotate=360", ""),
        ("srotate=180&rotate=0", "srotate=180"),
        ("flip=h", "flip=x"),
        ("flip=X", "flip=x"),
        ("flip=both", "flip=xy"),
        ("flip=none", ""),
        ("sflip=v", "sflip=y"),
        ("blur=0", ""),
        ("blur=2.50", "blur=2.5"),
        ("f.sharpen=15", "f.sharpen=15"),
        ("s.saturation=-1", "s.saturation=-1"),
        ("s.brightness=0.333", "s.brightness=0.33"),
        ("s.contrast=+0.5", "s.contrast=0.5"),
        ("trim.threshold=80", "trim.threshold=80"),
        ("watermark=@logo", "watermark=@logo"),
        ("watermark=@logo&watermark.opacity=0", ""),
        (
            "watermark=@logo&watermark.position=TopLeft&watermark.scale=0.5&watermark.opacity=.4",
            "watermark=@logo&watermark.position=topleft&watermark.scale=0.5&watermark.opacity=0.4",
        ),
        (
            "watermark=@logo&watermark.position=bottomright&watermark.scale=0.25",
            "watermark=@logo",
        ),
        ("w=100&rotate=90&format=webp", "w=100&rotate=90&format=webp"),
    ],
)
def test_canonical_forms(query: str, canonical: str) -> None:
    assert parse(query).canonical() == canonical


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("rotate=45", "rotate"),
        ("srotate=abc", "srotate"),
        ("flip=diagonal", "flip"),
        ("blur=51", "blur"),
        ("blur=-1", "blur"),
        ("f.sharpen=100", "f.sharpen"),
        ("s.saturation=1.5", "s.saturation"),
        ("s.contrast=nan", "s.contrast"),
        ("trim.threshold=256", "trim.threshold"),
        ("watermark=logo", "watermark"),
        ("watermark=@logo&watermark.scale=0", "watermark.scale"),
        ("watermark=@logo&watermark.position=left", "watermark.position"),
        ("watermark.opacity=0.5", "watermark.opacity"),
        ("preset=nope", "preset"),
        ("strict=maybe", "strict"),
    ],
)
def test_bad_values_name_the_parameter(query: str, param: str) -> None:
    exc = error(query)
    assert exc.param == param
    assert exc.code == "VALIDATION_ERROR"
    assert param in exc.message


def test_rotate_swaps_the_promised_size_and_srotate_turns_the_source() -> None:
    assert output_size(parse("w=400&h=300&mode=crop&rotate=90"), 1000, 1000) == (300, 400)
    assert output_size(parse("w=200&rotate=180"), 400, 100) == (200, 50)
    # srotate turns 400x100 into 100x400 before w=50 fits it.
    assert output_size(parse("w=50&srotate=90"), 400, 100) == (50, 200)


def test_preset_expands_and_url_parameters_override_it() -> None:
    card = parse_transform(PRESETS["card"])
    assert parse("preset=card") == card
    assert parse("preset=CARD").canonical() == card.canonical()
    assert parse("preset=card&w=320").width == 320
    assert parse("preset=card&dpr=2").width == 1280
    assert parse("preset=card&blur=3") == parse("w=640&h=360&mode=crop&format=auto&blur=3")
    # The preset's name is checked even when nothing else is asked for.
    assert error("preset=missing").param == "preset"


def test_strict_refuses_unknown_parameters_naming_them() -> None:
    exc = error("strict=true&w=100&wdith=200&Rotation=90")
    assert exc.code == "UNKNOWN_PARAMETER"
    assert exc.params == ("Rotation", "wdith")
    assert "wdith" in exc.message and "Rotation" in exc.message
    # Control parameters are known, and without strict unknown names are ignored.
    assert parse("strict=1&w=100&preset=card&sig=x&exp=1").width == 100
    assert parse("w=100&wdith=200").canonical() == "w=100"
    assert parse("strict=false&w=100&wdith=200").canonical() == "w=100"


KEYS = st.sampled_from(
    [*EFFECT_PARAMS, "w", "h", "mode", "format", "preset", "strict", "bgcolor", "dpr", "junk"]
)
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["90", "-270", "h", "xy", "0", "1", "-1", "0.5", "@logo", "card", "true", "topleft"]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-1000, 1000).map(str),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_any_input_is_a_spec_or_a_coded_error(params: dict[str, str]) -> None:
    try:
        spec = parse_transform(params, presets=PRESETS)
    except TransformError as exc:
        assert exc.code in ("VALIDATION_ERROR", "UNKNOWN_PARAMETER")
        assert exc.message
        return
    canonical = spec.canonical()
    again = parse_transform(dict(parse_qsl(canonical)))
    assert again == spec
    assert again.canonical() == canonical
