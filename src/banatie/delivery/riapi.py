"""RIAPI vocabulary and value parsing shared by :mod:`~banatie.delivery.params` (geometry,
format) and :mod:`~banatie.delivery.effects` (rotation, filters, watermark): the error every
bad value raises, the anchor names, and the parsers for integers, numbers and named choices."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final, Literal, TypeAlias, TypeVar

_T = TypeVar("_T")

Anchor: TypeAlias = Literal[
    "topleft",
    "topcenter",
    "topright",
    "middleleft",
    "middlecenter",
    "middleright",
    "bottomleft",
    "bottomcenter",
    "bottomright",
]

#: Anchor -> (x, y) position as a fraction of the free space (0 = left/top, 1 = right/bottom).
ANCHORS: Final[dict[Anchor, tuple[float, float]]] = {
    "topleft": (0.0, 0.0),
    "topcenter": (0.5, 0.0),
    "topright": (1.0, 0.0),
    "middleleft": (0.0, 0.5),
    "middlecenter": (0.5, 0.5),
    "middleright": (1.0, 0.5),
    "bottomleft": (0.0, 1.0),
    "bottomcenter": (0.5, 1.0),
    "bottomright": (1.0, 1.0),
}

INT_RE: Final = re.compile(r"\+?\d{1,9}")
NUMBER_RE: Final = re.compile(r"\+?(?:\d{1,9}(?:\.\d*)?|\.\d+)")
_SIGNED_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d{1,9}(?:\.\d*)?|\.\d+)")


class TransformError(Exception):
    """A transformation parameter has a value we cannot honour.

    ``param`` is the parameter's name as the client spelled it (lower-cased); ``message`` is a
    sentence for humans that names the parameter and says what is allowed; ``code`` is the
    error code of the 400 (``VALIDATION_ERROR`` unless the parameter itself is unknown).
    """

    def __init__(
        self,
        param: str,
        message: str,
        *,
        code: str = "VALIDATION_ERROR",
        params: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return self.message


def show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def fmt_number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def parse_int(param: str, raw: str, low: int, high: int) -> int:
    text = raw.strip()
    if not INT_RE.fullmatch(text) or not low <= int(text) <= high:
        raise TransformError(
            param, f"{param} must be an integer from {low} to {high} (got {show(raw)})"
        )
    return int(text)


def parse_number(param: str, raw: str, low: float, high: float) -> float:
    """A decimal number (sign allowed) from ``low`` to ``high``, rounded to 2 places."""
    text = raw.strip()
    value = float(text) if _SIGNED_NUMBER_RE.fullmatch(text) else math.nan
    if not low <= value <= high:  # also false for NaN
        raise TransformError(
            param,
            f"{param} must be a number from {fmt_number(low)} to {fmt_number(high)} "
            f"(got {show(raw)})",
        )
    return round(value, 2)


def parse_choice(param: str, raw: str, choices: Mapping[str, _T], allowed: str) -> _T:
    value = choices.get(raw.strip().lower())
    if value is None:
        raise TransformError(param, f"{param} must be one of {allowed} (got {show(raw)})")
    return value
