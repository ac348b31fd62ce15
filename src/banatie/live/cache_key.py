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
from banatie.generation import request as rules
from banatie.generation.request import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_TEMPLATE,
    ImageParams,
    normalize_prompt,
)
from banatie.providers.capabilities import ImageCapabilities

__all__ = ["LiveRequest", "cache_key", "normalize_prompt", "normalize_scope", "parse_live_request"]

KEY_VERSION: Final = 1

SCOPE_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")

# Query names (case-insensitive) -> canonical field. camelCase is the API's spelling. The one
# list of live parameters: signing and the fast path derive theirs from it.
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


def normalize_scope(scope: str) -> str:
    slug = unicodedata.normalize("NFC", scope).strip().lower()
    if not SCOPE_RE.fullmatch(slug):
        raise ValidationError(
            f"scope {scope[:70]!r} must be 1-64 characters of a-z, 0-9, '-' and '_', "
            "starting and ending with a letter or digit"
        )
    return slug


def parse_live_request(
    scope: str,
    params: Mapping[str, str],
    *,
    capabilities: ImageCapabilities | None,
    max_prompt_chars: int = 5000,
) -> LiveRequest:
    """Validate and normalise a live URL's scope and query. Unknown parameters are ignored.

    The values obey the rules of every other surface (`banatie.generation.request`).
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

    if "prompt" not in found:
        raise ValidationError("prompt is required: …/live/{scope}?prompt=a+red+fox")
    given = {field: value for field, (_, value) in found.items()}
    checked = rules.validate(
        ImageParams(
            # Collapsed: the same prompt with other whitespace is the same image.
            prompt=normalize_prompt(given["prompt"]),
            aspect_ratio=given.get("aspect_ratio", DEFAULT_ASPECT_RATIO),
            image_size=given.get("image_size"),
            template=given.get("template"),
            namespace=given.get("namespace"),
        ),
        capabilities=capabilities,
        max_prompt_chars=max_prompt_chars,
    )
    return LiveRequest(
        scope=normalize_scope(scope),
        prompt=checked.prompt,
        aspect_ratio=checked.aspect_ratio,
        image_size=checked.image_size,
        template=checked.template or DEFAULT_TEMPLATE,
        auto_enhance=(
            rules.parse_flag(*found["auto_enhance"]) if "auto_enhance" in found else True
        ),
        namespace=checked.namespace,
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
