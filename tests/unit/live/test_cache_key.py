"""The cache key: what normalises away, what never counts, what always does."""

from __future__ import annotations

import hashlib
import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banatie.errors import ValidationError
from banatie.live.cache_key import (
    LiveRequest,
    cache_key,
    normalize_prompt,
    parse_live_request,
)
from banatie.providers.gemini.families import image_capabilities
from banatie.providers.local.synthesizer import LOCAL_CAPABILITIES
from banatie.providers.ports import ASPECT_RATIO_SIZES, TEMPLATES

FLASH_IMAGE = image_capabilities("gemini-3.1-flash-image-preview")

PROJECT = "8b0c6a8e-0000-4000-8000-000000000001"
WHITESPACE = st.sampled_from([" ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2003", "  "])
WORDS = st.lists(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
        min_size=1,
        max_size=12,
    ),
    min_size=1,
    max_size=8,
)
NOISE = st.dictionaries(
    st.sampled_from(
        [
            "w",
            "h",
            "mode",
            "format",
            "quality",
            "dpr",
            "key",
            "sig",
            "exp",
            "utm_source",
            "utm_campaign",
            "fbclid",
            "gclid",
            "ref",
            "v",
            "c.gravity",
            "anchor",
        ]
    ),
    st.text(max_size=10),
    max_size=6,
)


def key_of(scope: str, params: dict[str, str], project: str = PROJECT) -> str:
    return cache_key(project, parse_live_request(scope, params, capabilities=LOCAL_CAPABILITIES))


@settings(max_examples=200, deadline=None)
@given(words=WORDS, gaps=st.lists(WHITESPACE, min_size=9, max_size=9), lead=WHITESPACE)
def test_whitespace_is_trimmed_and_collapsed(words: list[str], gaps: list[str], lead: str) -> None:
    spaced = lead + "".join(w + gaps[i] for i, w in enumerate(words)) + lead
    plain = " ".join(words)
    assert normalize_prompt(spaced) == normalize_prompt(plain)
    assert key_of("blog", {"prompt": spaced}) == key_of("blog", {"prompt": plain})


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=60).filter(lambda t: t.strip()))
def test_unicode_forms_give_one_key(text: str) -> None:
    forms = {unicodedata.normalize(form, text) for form in ("NFC", "NFD")}
    prompts = {normalize_prompt(form) for form in forms}
    if prompts == {""}:
        return
    assert len(prompts) == 1
    assert len({key_of("blog", {"prompt": form}) for form in forms}) == 1


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize_prompt(text)
    assert normalize_prompt(once) == once
    assert once == once.strip() and "  " not in once
    assert unicodedata.is_normalized("NFC", once)


@settings(max_examples=200, deadline=None)
@given(noise=NOISE, prompt=st.sampled_from(["a fox", "ein Fuchs", "лиса", "狐"]))
def test_transform_auth_and_tracking_parameters_never_change_the_key(
    noise: dict[str, str], prompt: str
) -> None:
    assert key_of("blog", {"prompt": prompt, **noise}) == key_of("blog", {"prompt": prompt})


@settings(max_examples=100, deadline=None)
@given(
    aspect=st.sampled_from(sorted(ASPECT_RATIO_SIZES)),
    template=st.sampled_from(TEMPLATES),
    enhance=st.booleans(),
    spelling=st.booleans(),
)
def test_spellings_and_defaults(aspect: str, template: str, enhance: bool, spelling: bool) -> None:
    camel = {
        "prompt": "x",
        "aspectRatio": aspect,
        "template": template,
        "autoEnhance": str(enhance),
    }
    snake = {
        "prompt": "x",
        "aspect_ratio": aspect.replace(":", "x") if spelling else aspect,
        "TEMPLATE": template.upper(),
        "auto_enhance": ("yes" if enhance else "no") if spelling else ("1" if enhance else "0"),
    }
    assert key_of("blog", camel) == key_of("BLOG", snake)


def test_defaults_are_the_same_request() -> None:
    bare = key_of("blog", {"prompt": "x"})
    explicit = {"prompt": "x", "aspectRatio": "1:1", "template": "general", "autoEnhance": "true"}
    assert key_of("blog", explicit) == bare
    assert key_of("blog", {"prompt": "x", "namespace": ""}) == bare


@settings(max_examples=100, deadline=None)
@given(
    field=st.sampled_from(
        [
            "scope",
            "project",
            "prompt",
            "aspectRatio",
            "imageSize",
            "template",
            "autoEnhance",
            "namespace",
        ]
    )
)
def test_every_part_of_the_request_counts(field: str) -> None:
    base = {"prompt": "a fox", "aspectRatio": "1:1", "template": "general", "autoEnhance": "true"}
    changed = dict(base)
    scope, project = "blog", PROJECT
    if field == "scope":
        scope = "docs"
    elif field == "project":
        project = "8b0c6a8e-0000-4000-8000-000000000002"
    elif field == "prompt":
        changed["prompt"] = "a Fox"
    elif field == "aspectRatio":
        changed["aspectRatio"] = "16:9"
    elif field == "imageSize":
        changed["imageSize"] = "2K"
    elif field == "template":
        changed["template"] = "comic"
    elif field == "autoEnhance":
        changed["autoEnhance"] = "false"
    else:
        changed["namespace"] = "brand"
    assert key_of(scope, changed, project) != key_of("blog", base)


def test_key_is_a_sha256_hex_digest() -> None:
    key = cache_key(PROJECT, LiveRequest(scope="blog", prompt="a fox"))
    assert len(key) == 64 and int(key, 16) >= 0


@pytest.mark.parametrize(
    "scope, params",
    [
        ("blog", {}),
        ("blog", {"prompt": " \t "}),
        ("blog", {"prompt": "x", "aspectRatio": "2:1"}),
        ("blog", {"prompt": "x", "aspectRatio": "1:8"}),  # not in the local model's row
        ("blog", {"prompt": "x", "aspectRatio": "wide"}),
        ("blog", {"prompt": "x", "imageSize": "8K"}),
        ("blog", {"prompt": "x", "imageSize": "huge"}),
        ("blog", {"prompt": "x", "imageSize": "2K", "image_size": "4K"}),
        ("blog", {"prompt": "x", "template": "nope"}),
        ("blog", {"prompt": "x", "autoEnhance": "perhaps"}),
        ("blog", {"prompt": "x", "namespace": "no spaces"}),
        ("blog", {"prompt": "x", "aspectRatio": "1:1", "ar": "16:9"}),
        ("-blog", {"prompt": "x"}),
        ("a" * 65, {"prompt": "x"}),
        ("blog", {"prompt": "x" * 5001}),
    ],
)
def test_bad_requests_are_400(scope: str, params: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        parse_live_request(scope, params, capabilities=LOCAL_CAPABILITIES)


def test_keys_without_image_size_are_those_made_before_it_existed() -> None:
    """Live images cached before imageSize was a parameter keep their keys (and stay hits)."""
    before = json.dumps(
        {
            "v": 1,
            "project": PROJECT,
            "scope": "blog",
            "prompt": "a fox",
            "aspectRatio": "16:9",
            "template": "general",
            "autoEnhance": True,
            "namespace": None,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    expected = hashlib.sha256(before.encode()).hexdigest()
    assert key_of("blog", {"prompt": "a fox", "aspectRatio": "16:9"}) == expected


@pytest.mark.parametrize(
    "spellings", [("2K", "2k", " 2K "), ("512", "0.5K", "512px", "0.5k"), ("4K", "4k")]
)
def test_image_size_spellings_give_one_key(spellings: tuple[str, ...]) -> None:
    keys = {key_of("blog", {"prompt": "x", "imageSize": size}) for size in spellings}
    assert len(keys) == 1
    assert keys != {key_of("blog", {"prompt": "x"})}  # given differs from the model's default
    request = parse_live_request(
        "blog", {"prompt": "x", "image_size": spellings[-1]}, capabilities=LOCAL_CAPABILITIES
    )
    assert request.query()["imageSize"] == spellings[0].strip()


@settings(max_examples=100, deadline=None)
@given(
    ratio=st.sampled_from(sorted(FLASH_IMAGE.aspect_ratios)),
    size=st.sampled_from(["512", "1K", "2K", "4K"]),
)
def test_the_models_row_decides_what_is_offered(ratio: str, size: str) -> None:
    params = {"prompt": "x", "aspectRatio": ratio, "imageSize": size}
    gemini = parse_live_request("blog", params, capabilities=FLASH_IMAGE)
    # Spelling alone (the warm-hit path): the same request, hence the same key.
    assert parse_live_request("blog", params, capabilities=None) == gemini
    offered = LOCAL_CAPABILITIES.dimensions(ratio, size) is not None
    if offered:
        assert parse_live_request("blog", params, capabilities=LOCAL_CAPABILITIES) == gemini
    else:
        with pytest.raises(ValidationError, match="banatie-local-1"):
            parse_live_request("blog", params, capabilities=LOCAL_CAPABILITIES)
