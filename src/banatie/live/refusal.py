"""What a live URL answers when it cannot give the image.

The status stays honest (400, 403, 404, 429, 502, …) and nothing is cached
(`Cache-Control: no-store`). Because a live URL usually sits in an `<img>`, a client that accepts
images gets a small SVG of the requested aspect ratio that says what happened (browsers draw an
image body whatever the status); any other client gets the API's JSON error envelope.
"""

from __future__ import annotations

import textwrap
import unicodedata
from typing import Final
from xml.sax.saxutils import escape

from fastapi import Response
from fastapi.responses import JSONResponse

from banatie.errors import error_body, problem_of
from banatie.providers.ports import ASPECT_RATIO_SIZES

TITLES: Final[dict[str, str]] = {
    "RATE_LIMIT_EXCEEDED": "Too many new images right now",
    "QUOTA_EXCEEDED": "Image quota used up",
    "SCOPE_LIMIT_EXCEEDED": "This scope is full",
    "SCOPE_GENERATIONS_DISABLED": "New images are turned off here",
    "SCOPE_NOT_FOUND": "Unknown live scope",
    "REFERRER_NOT_ALLOWED": "Not allowed from this site",
    "SIGNATURE_REQUIRED": "This live URL must be signed",
    "INVALID_SIGNATURE": "Invalid live URL signature",
    "VALIDATION_ERROR": "Invalid live URL",
    "PROJECT_NOT_FOUND": "Unknown project",
    "CONTENT_BLOCKED": "Prompt blocked by the image model",
    "LIVE_GENERATION_TIMEOUT": "Image is taking too long",
}
_SVG_MEDIA: Final = "image/svg+xml"
_PALETTE: Final[dict[int, tuple[str, str]]] = {  # status class -> (background, accent)
    4: ("#fff7ed", "#c2410c"),
    5: ("#fef2f2", "#b91c1c"),
}


def wants_image(accept: str | None) -> bool:
    """Browsers' `<img>` requests list image types; API clients ask for JSON or nothing."""
    if not accept:
        return False
    lowered = accept.lower()
    if "application/json" in lowered:
        return False
    return "image/" in lowered


def _duration(seconds: str) -> str:
    value = int(seconds) if seconds.isdigit() else 0
    if value < 120:
        return f"{value} s"
    if value < 7200:
        return f"{round(value / 60)} min"
    if value < 172800:
        return f"{round(value / 3600)} h"
    return f"{round(value / 86400)} days"


# Text is laid out without the browser's font metrics, so widths are estimated per character,
# on the wide side of common sans-serif fonts (DejaVu Sans: lower case 0.51 em on average,
# upper case 0.61, `m` 0.95, `W` 0.98; bold about 10% wider; CJK 1 em).
_WIDE: Final = frozenset("mwMW@%&#")
_NARROW: Final = frozenset(" .,:;'|!ijlIft()[]`\"")
_BOLD: Final = 1.12
_MARGIN: Final = 40  # inside the dashed frame (drawn 8 to 12 px from the edge)
_MAX_LINES: Final = 7
_LEADING: Final = 1.3


def _em(char: str) -> float:
    if char in _WIDE or unicodedata.east_asian_width(char) in "WF":
        return 1.0
    if char in _NARROW:
        return 0.34
    if unicodedata.combining(char):
        return 0.0
    if char.isdigit():
        return 0.64
    if char.islower():
        return 0.6
    return 0.76  # upper case, other scripts, symbols


def text_width(text: str, font: float, bold: bool = False) -> float:
    """Estimated width in pixels of one line of `text` at `font` px."""
    return sum(map(_em, text)) * font * (_BOLD if bold else 1.0)


def _fitting_font(text: str, preferred: float, width: float, bold: bool = False) -> float:
    """`preferred`, or smaller so that one line of `text` fits `width`."""
    return min(preferred, width / max(text_width(text, 1.0, bold), 0.5))


def _wrap(message: str, font: int, width: float) -> list[str]:
    """Lines of `message` that each fit `width` at `font` px."""
    average = max(text_width(message, 1.0) / len(message), 0.3)
    chars = max(1, int(width / (font * average)))
    while True:
        lines = textwrap.wrap(message, width=chars)
        if chars == 1 or all(text_width(line, font) <= width for line in lines):
            return lines
        chars = max(1, int(chars * 0.9))


def _layout(message: str, width: int, height: int) -> tuple[int, list[str]]:
    """The largest body font (of a few) at which the message fits the image; past seven lines
    at the smallest, the message is cut with an ellipsis (the full text is in the SVG's
    <title> and the JSON error)."""
    inner_width, inner_height = width - 2 * _MARGIN, height - 2 * _MARGIN
    message = message[:2000]  # seven lines never hold more
    lines: list[str] = []
    font = 12
    for font in range(max(24, min(width, height) // 13), 11, -4):
        lines = _wrap(message, font, inner_width)
        # Title (up to 1.4x) and footer (0.8x) take about three more lines.
        if len(lines) <= _MAX_LINES and (len(lines) + 3.2) * font * _LEADING <= inner_height:
            return font, lines
    if len(lines) > _MAX_LINES:
        last = lines[_MAX_LINES - 1]
        while last and text_width(last + " …", font) > inner_width:
            last = last[:-1]
        lines = [*lines[: _MAX_LINES - 1], last.rstrip(" .,;:") + " …"]
    return font, lines


def svg(status: int, code: str, message: str, aspect_ratio: str, retry_after: str | None) -> str:
    width, height = ASPECT_RATIO_SIZES.get(aspect_ratio, ASPECT_RATIO_SIZES["1:1"])
    background, accent = _PALETTE.get(status // 100, _PALETTE[4])
    title = TITLES.get(code, "Image unavailable")
    font, lines = _layout(message, width, height)
    inner_width = width - 2 * _MARGIN
    title_font = _fitting_font(title, font * 1.4, inner_width, bold=True)
    footer = f"{status} {code}" + (f" · retry in {_duration(retry_after)}" if retry_after else "")
    footer_font = _fitting_font(footer, font * 0.8, inner_width)
    # Baselines from the top of a block centred vertically: title, a gap, lines, a gap, footer.
    block = (title_font + (len(lines) + 0.6) * font + footer_font) * _LEADING
    title_y = (height - block) / 2 + title_font
    first_line_y = title_y + (title_font * 0.3 + font * 1.6) * _LEADING - font * 0.3
    footer_y = first_line_y + (len(lines) - 1 + 0.6) * font * _LEADING + footer_font * _LEADING
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}: {escape(message)}</title>",
        f'<rect width="100%" height="100%" fill="{background}"/>',
        f'<rect x="8" y="8" width="{width - 16}" height="{height - 16}" fill="none" '
        f'stroke="{accent}" stroke-width="4" stroke-dasharray="16 10"/>',
        f'<g font-family="system-ui, sans-serif" text-anchor="middle" fill="{accent}">',
        f'<text x="{width / 2}" y="{title_y:.0f}" font-size="{title_font:.0f}" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for i, line in enumerate(lines):
        parts.append(
            f'<text x="{width / 2}" y="{first_line_y + i * font * _LEADING:.0f}" '
            f'font-size="{font}">{escape(line)}</text>'
        )
    parts.append(
        f'<text x="{width / 2}" y="{footer_y:.0f}" '
        f'font-size="{footer_font:.0f}" opacity="0.8">{escape(footer)}</text>'
    )
    parts.append("</g></svg>")
    return "".join(parts)


def refusal(
    exc: Exception, *, accept: str | None, aspect_ratio: str = "1:1", head: bool = False
) -> Response:
    # The API's one mapping of errors to answers, drawn or written.
    problem = problem_of(exc)
    status, code, message = problem.status, problem.code, problem.message
    headers = {**problem.headers, "Cache-Control": "no-store", "Vary": "Accept"}
    headers["X-Error-Code"] = code
    if wants_image(accept):
        body = svg(status, code, message, aspect_ratio, headers.get("Retry-After"))
        if head:
            headers["Content-Length"] = str(len(body.encode()))
            return Response(status_code=status, headers=headers, media_type=_SVG_MEDIA)
        return Response(body, status_code=status, headers=headers, media_type=_SVG_MEDIA)
    return JSONResponse(
        error_body(message, code, problem.details), status_code=status, headers=headers
    )
