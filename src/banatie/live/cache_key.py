"""The normalised live request and its cache key.

Only what changes the generated image is part of the key: project, scope, prompt, aspect ratio,
imageSize, template, autoEnhance and namespace. Everything else in the query (transformation
parameters, which select a variant of the cached image, `key`, `sig`, `exp`, `utm_*`, click
ids, …) is ignored here, so it can never split the cache or cost a second generation.

Normalisation: the prompt is Unicode NFC with whitespace trimmed and runs collapsed to one
space; names are case-insensitive; defaults are explicit (`1:1`, template `general`,
`autoEnhance=true`), so leaving a parameter out and giving its default are the same request.
imageSize is the exception: left out it means "the model's default size", which may change
with the model, so it is only part of the key when given (which also keeps every key made
before imageSize existed).

Whether the aspect ratio and imageSize are offered is the active model's to say
(`providers.capabilities.check_output`); the key itself depends only on the query's text.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from banatie.errors import ValidationError
from banatie.providers.capabilities import ImageCapabilities, check_output, normalize_image_size
from banatie.providers.ports import TEMPLATES

KEY_VERSION: Final = 1
DEFAULT_ASPECT_RATIO: Final = "1:1"
DEFAULT_TEMPLATE: Final = "general"

SCOPE_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
_NAMESPACE_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62})")
_RATIO_RE: Final = re.compile(r"[1-9][0-9]?:[1-9][0-9]?")
_TRUE: Final = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE: Final = frozenset({"0", "false", "no", "off", "f", "n"})

# Query names (case-insensitive) -> canonical field. camelCase is the API's spelling.
QUERY_NAMES: Final[dict[str, str]] = {
    "prompt": "prompt",
    "aspectratio": "aspect_ratio",
    "aspect_ratio": "aspect_ratio",
    "ar": "aspect_ratio",
    "imagesize": "image_size",
    "image_size": "image_size",
    "template": "template",
    "autoenhance": "auto_enhance",
    "auto_enhance": "auto_enhance",
    "namespace": "namespace",
}


@dataclass(frozen=True, slots=True)
class LiveRequest:
    """A live URL's generation parameters, normalised (equal requests compare equal)."""

    scope: str
    prompt: str
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    template: str = DEFAULT_TEMPLATE
    auto_enhance: bool = True
    namespace: str | None = None
    # None: the model's default size.
    image_size: str | None = None

    def cache_key(self, project_id: str) -> str:
        return cache_key(project_id, self)

    def query(self) -> dict[str, str]:
        """The canonical query parameters of this request (for building URLs)."""
        params = {"prompt": self.prompt}
        if self.aspect_ratio != DEFAULT_ASPECT_RATIO:
            params["aspectRatio"] = self.aspect_ratio
        if self.image_size is not None:
            params["imageSize"] = self.image_size
        if self.template != DEFAULT_TEMPLATE:
            params["template"] = self.template
        if not self.auto_enhance:
            params["autoEnhance"] = "false"
        if self.namespace is not None:
            params["namespace"] = self.namespace
        return params


def normalize_prompt(prompt: str) -> str:
    """NFC, then trim and collapse every run of Unicode whitespace to one space."""
    return " ".join(unicodedata.normalize("NFC", prompt).split())


def normalize_scope(scope: str) -> str:
    slug = unicodedata.normalize("NFC", scope).strip().lower()
    if not SCOPE_RE.fullmatch(slug):
        raise ValidationError(
            f"scope {scope[:70]!r} must be 1-64 characters of a-z, 0-9, '-' and '_', "
            "starting and ending with a letter or digit"
        )
    return slug


def _normalize_aspect_ratio(raw: str) -> str:
    value = raw.strip().lower().replace("x", ":").replace("/", ":")
    if not _RATIO_RE.fullmatch(value):
        raise ValidationError(f"aspectRatio {raw[:20]!r} is not a ratio like 16:9")
    return value


def _normalize_image_size(raw: str) -> str:
    size = normalize_image_size(raw)
    if size is None:
        raise ValidationError(f"imageSize {raw[:20]!r} is not a size like 1K, 2K, 4K or 512")
    return size


def _normalize_template(raw: str) -> str:
    value = raw.strip().lower() or DEFAULT_TEMPLATE
    if value not in TEMPLATES:
        raise ValidationError(
            f"template {raw[:40]!r} is not supported; use one of " + ", ".join(TEMPLATES)
        )
    return value


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE or value == "":
        return True
    if value in _FALSE:
        return False
    raise ValidationError(f"{name} must be true or false (got {raw[:20]!r})")


def _normalize_namespace(raw: str) -> str | None:
    value = raw.strip().lower().lstrip("@")
    if not value:
        return None
    if not _NAMESPACE_RE.fullmatch(value):
        raise ValidationError(f"namespace {raw[:70]!r} is not a valid namespace slug")
    return value


def parse_live_request(
    scope: str,
    params: Mapping[str, str],
    *,
    capabilities: ImageCapabilities | None,
    max_prompt_chars: int = 5000,
) -> LiveRequest:
    """Validate and normalise a live URL's scope and query. Unknown parameters are ignored.

    `capabilities`: the active synthesizer's row, which the aspect ratio and imageSize must be
    offered by; None checks their spelling only (enough to find an image that already exists).
    """
    found: dict[str, tuple[str, str]] = {}
    for name, value in params.items():
        field = QUERY_NAMES.get(name.lower())
        if field is None:
            continue
        if field in found and found[field][1] != value:
            raise ValidationError(f"{found[field][0]} and {name} give different values")
        found[field] = (name, value)

    prompt = normalize_prompt(found["prompt"][1]) if "prompt" in found else ""
    if not prompt:
        raise ValidationError("prompt is required: …/live/{scope}?prompt=a+red+fox")
    if len(prompt) > max_prompt_chars:
        raise ValidationError(
            f"prompt is {len(prompt)} characters; the limit is {max_prompt_chars}"
        )
    aspect_ratio = (
        _normalize_aspect_ratio(found["aspect_ratio"][1])
        if "aspect_ratio" in found
        else DEFAULT_ASPECT_RATIO
    )
    raw_size = found["image_size"][1] if "image_size" in found else None
    if capabilities is not None:  # the same rule and message as every other channel
        aspect_ratio, image_size = check_output(capabilities, aspect_ratio, raw_size)
    else:
        image_size = _normalize_image_size(raw_size) if raw_size is not None else None
    return LiveRequest(
        scope=normalize_scope(scope),
        prompt=prompt,
        aspect_ratio=aspect_ratio,
        image_size=image_size,
        template=(
            _normalize_template(found["template"][1]) if "template" in found else DEFAULT_TEMPLATE
        ),
        auto_enhance=(
            _parse_bool(found["auto_enhance"][0], found["auto_enhance"][1])
            if "auto_enhance" in found
            else True
        ),
        namespace=_normalize_namespace(found["namespace"][1]) if "namespace" in found else None,
    )


def cache_key(project_id: str, request: LiveRequest) -> str:
    """SHA-256 (hex) of the canonical JSON of the normalised request."""
    fields: dict[str, object] = {
        "v": KEY_VERSION,
        "project": project_id,
        "scope": request.scope,
        "prompt": request.prompt,
        "aspectRatio": request.aspect_ratio,
        "template": request.template,
        "autoEnhance": request.auto_enhance,
        "namespace": request.namespace,
    }
    if request.image_size is not None:  # absent: keys made before imageSize stay valid
        fields["imageSize"] = request.image_size
    canonical = json.dumps(
        fields,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
