"""What a request for an image may ask for: one set of rules for every surface.

`POST /generations`, live URLs, `POST /enhance` (and the MCP tools and SDKs built on them) all
validate prompt, aspectRatio, imageSize, template, autoEnhance and namespace here, so a value one
surface accepts is accepted by all of them, spelled the same way once normalised:

* prompt: must hold text once trimmed; its length (after Unicode NFC and collapsing whitespace)
  is at most ``BANATIE_MAX_PROMPT_CHARS``.
* aspectRatio: ``16:9``, ``16x9``, ``16/9`` (any case, spaces around) are one ratio; the active
  model's row (`providers.capabilities.check_output`) says which ratios and imageSizes it offers.
* template: one of `TEMPLATES`, in any case; empty means the default.
* namespace: a slug (``@brand`` and ``Brand`` are ``brand``); empty means none.
* autoEnhance (in a query string): true/false, 1/0, yes/no, on/off, t/f, y/n; empty is true.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final, Protocol

from banatie.errors import ValidationError
from banatie.providers.capabilities import (
    ImageCapabilities,
    check_output,
    normalize_aspect_ratio,
    normalize_image_size,
)
from banatie.providers.ports import TEMPLATES

DEFAULT_ASPECT_RATIO: Final = "1:1"
DEFAULT_TEMPLATE: Final = "general"

_NAMESPACE_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62})")
_RATIO_RE: Final = re.compile(r"[1-9][0-9]?:[1-9][0-9]?")
_TRUE: Final = frozenset({"1", "true", "yes", "on", "t", "y", ""})
_FALSE: Final = frozenset({"0", "false", "no", "off", "f", "n"})


@dataclass(frozen=True, slots=True)
class ImageParams:
    """The parameters that decide the image, validated and in canonical spelling."""

    prompt: str
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    # None: the model's default size.
    image_size: str | None = None
    # None: the default template (`general`).
    template: str | None = None
    auto_enhance: bool = True
    namespace: str | None = None


class HasImageParams(Protocol):
    """Anything that carries the six parameters: a request body, a live request, a stored
    generation or live entry."""

    @property
    def prompt(self) -> str: ...
    @property
    def aspect_ratio(self) -> str | None: ...  # None: the namespace's, else 1:1
    @property
    def image_size(self) -> str | None: ...
    @property
    def template(self) -> str | None: ...
    @property
    def auto_enhance(self) -> bool: ...
    @property
    def namespace(self) -> str | None: ...


def image_fields(source: HasImageParams) -> dict[str, Any]:
    """The six parameters of `source` as keyword arguments (to build another carrier)."""
    return {
        "prompt": source.prompt,
        "aspect_ratio": source.aspect_ratio,
        "image_size": source.image_size,
        "template": source.template,
        "auto_enhance": source.auto_enhance,
        "namespace": source.namespace,
    }


def normalize_prompt(prompt: str) -> str:
    """NFC, then trim and collapse every run of Unicode whitespace to one space."""
    return " ".join(unicodedata.normalize("NFC", prompt).split())


def check_prompt(prompt: str, limit: int) -> str:
    """The prompt trimmed; 400 when it is empty or longer than `limit` characters."""
    length = len(normalize_prompt(prompt))
    if not length:
        raise ValidationError("prompt must not be empty", details={"field": "prompt"})
    if length > limit:
        raise ValidationError(
            f"prompt is {length} characters; the limit is {limit}", details={"field": "prompt"}
        )
    return prompt.strip()


def check_template(raw: str | None) -> str | None:
    """The template in canonical spelling; None for the default."""
    if raw is None:
        return None
    value = raw.strip().lower()
    if not value:
        return None
    if value not in TEMPLATES:
        raise ValidationError(
            f"template {raw[:40]!r} is not supported; use one of " + ", ".join(TEMPLATES),
            details={"field": "template"},
        )
    return value


def check_namespace(raw: str | None) -> str | None:
    """The namespace slug (spelling only: whether it exists is the caller's to check)."""
    if raw is None:
        return None
    value = raw.strip().lower().lstrip("@")
    if not value:
        return None
    if not _NAMESPACE_RE.fullmatch(value):
        raise ValidationError(
            f"namespace {raw[:70]!r} is not a valid namespace slug",
            details={"field": "namespace"},
        )
    return value


def parse_flag(name: str, raw: str) -> bool:
    """A boolean query parameter."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(
        f"{name} must be true or false (got {raw[:20]!r})", details={"field": name}
    )


def check_spelling(aspect_ratio: str, image_size: str | None) -> tuple[str, str | None]:
    """Aspect ratio and imageSize in canonical spelling, without asking the model: enough to
    find an image that already exists."""
    ratio = normalize_aspect_ratio(aspect_ratio)
    if not _RATIO_RE.fullmatch(ratio):
        raise ValidationError(
            f"aspectRatio {aspect_ratio[:20]!r} is not a ratio like 16:9",
            details={"field": "aspectRatio"},
        )
    if image_size is None:
        return ratio, None
    size = normalize_image_size(image_size)
    if size is None:
        raise ValidationError(
            f"imageSize {image_size[:20]!r} is not a size like 1K, 2K, 4K or 512",
            details={"field": "imageSize"},
        )
    return ratio, size


def validate(
    params: HasImageParams, *, capabilities: ImageCapabilities | None, max_prompt_chars: int
) -> ImageParams:
    """`params` checked and in canonical spelling (the prompt trimmed, not collapsed).

    `capabilities`: the active synthesizer's row, which the aspect ratio and imageSize must be
    offered by; None checks their spelling only.
    """
    prompt = check_prompt(params.prompt, max_prompt_chars)
    ratio = DEFAULT_ASPECT_RATIO if params.aspect_ratio is None else params.aspect_ratio
    if capabilities is not None:
        aspect_ratio, image_size = check_output(capabilities, ratio, params.image_size)
    else:
        aspect_ratio, image_size = check_spelling(ratio, params.image_size)
    return ImageParams(
        prompt=prompt,
        aspect_ratio=aspect_ratio,
        image_size=image_size,
        template=check_template(params.template),
        auto_enhance=params.auto_enhance,
        namespace=check_namespace(params.namespace),
    )
