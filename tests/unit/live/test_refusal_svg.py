"""The refusal SVG a live URL shows in place of its image: rendered (librsvg through libvips,
with the machine's sans-serif font), its text stays inside the dashed frame at every size."""

from __future__ import annotations

import re
import time

import pytest
import pyvips
from hypothesis import given, settings
from hypothesis import strategies as st

from banatie.live.refusal import TITLES, svg
from banatie.providers.ports import ASPECT_RATIO_SIZES

SCALE = 0.25  # fitting does not depend on the scale; a quarter renders sixteen times faster
FRAME = 12  # the dashed frame's inner edge, from every side
STATUS = {"RATE_LIMIT_EXCEEDED": 429, "QUOTA_EXCEEDED": 429, "LIVE_GENERATION_TIMEOUT": 504}
MESSAGES = (
    "no",
    "new images are turned off for scope landing-page-hero-section-2024 by its owner; ask "
    "them to allow new generations",
    "rate limit of 10/hour reached for live URL misses from this client IP 2001:db8::1; "
    "cached URLs are still served. " * 6,
    "https://example.com/" + "a" * 120,  # one long word
)


def text_box(body: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the text: the render minus the render without text."""
    full = pyvips.Image.new_from_buffer(body.encode(), "", scale=SCALE)
    bare_svg = re.sub(r"<g .*</g>", "", body)
    bare = pyvips.Image.new_from_buffer(bare_svg.encode(), "", scale=SCALE)
    ink = (full - bare).abs().bandmean() > 16
    left, top, width, height = ink.find_trim(threshold=0.5, background=[0])
    assert width > 0 and height > 0, "no text was drawn: is a sans-serif font installed?"
    return left / SCALE, top / SCALE, (left + width) / SCALE, (top + height) / SCALE


def assert_fits(code: str, message: str, ratio: str, retry_after: str | None) -> None:
    status = STATUS.get(code, 403)
    width, height = ASPECT_RATIO_SIZES.get(ratio, ASPECT_RATIO_SIZES["1:1"])
    left, top, right, bottom = text_box(svg(status, code, message, ratio, retry_after))
    slack = 2 / SCALE  # anti-aliasing at the render's scale
    assert left >= FRAME - slack and top >= FRAME - slack, (ratio, code, left, top)
    assert right <= width - FRAME + slack, (ratio, code, right, width)
    assert bottom <= height - FRAME + slack, (ratio, code, bottom, height)


# Only their length sets the title's and the footer's fonts: the longest of each is enough.
LONGEST_TITLE = max(TITLES, key=lambda code: len(TITLES[code]))


@pytest.mark.parametrize("ratio", [*ASPECT_RATIO_SIZES, "7:3"])
def test_the_longest_title_and_footer_fit_every_size(ratio: str) -> None:
    for code in (LONGEST_TITLE, "SOMETHING_NEW_AND_LONG_ERROR_CODE", "RATE_LIMIT_EXCEEDED"):
        for message in (MESSAGES[1], MESSAGES[2]):
            assert_fits(code, message, ratio, "172800" if code in STATUS else None)


@pytest.mark.parametrize("ratio", list(ASPECT_RATIO_SIZES))
def test_short_and_unbreakable_messages_fit(ratio: str) -> None:
    for message in (MESSAGES[0], MESSAGES[3]):
        assert_fits("LIVE_GENERATION_TIMEOUT", message, ratio, "3599")


def test_a_message_too_long_to_draw_is_cut_visibly_and_kept_whole_in_the_title() -> None:
    message = "word " * 400 + "END"
    body = svg(429, "QUOTA_EXCEEDED", message, "21:9", None)
    assert "END" not in "".join(re.findall(r"<text [^>]*>([^<]*)</text>", body))
    assert "…</text>" in body and f"{message}</title>" in body


@settings(max_examples=25, deadline=None)
@given(
    message=st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=400),
    ratio=st.sampled_from(list(ASPECT_RATIO_SIZES)),
    code=st.sampled_from(list(TITLES)),
)
def test_any_message_fits(message: str, ratio: str, code: str) -> None:
    started = time.monotonic()
    if message.strip():
        assert_fits(code, message, ratio, "59")
    assert time.monotonic() - started < 10
