"""URL builders that need no request: image URLs (transformed, optionally signed) and live URLs."""

from __future__ import annotations

from datetime import datetime
from typing import Unpack
from urllib.parse import urlsplit

from banatie_sdk._calls import ImageRef
from banatie_sdk._config import Config
from banatie_sdk.models import Image
from banatie_sdk.signing import (
    LIVE_PARAMS,
    TRANSFORM_PARAMS,
    Transform,
    encode,
    expiry,
    image_path,
    live_path,
    sign_pairs,
    transform_pairs,
)


def _where(config: Config, what: str) -> tuple[str, str]:
    if not config.organization or not config.project:
        raise ValueError(
            f"{what} needs the organization and project slugs: pass "
            "Banatie(organization=…, project=…) or set BANATIE_ORGANIZATION and BANATIE_PROJECT"
        )
    return config.organization, config.project


def _signing(key: str | None, sign: bool | None, what: str) -> str | None:
    if sign is False:
        return None
    if not key:
        if sign:
            raise ValueError(f"sign=True needs {what}")
        return None
    return key


def image_url(
    config: Config,
    image: ImageRef,
    *,
    sign: bool | None = None,
    expires_at: int | float | datetime | None = None,
    expires_in: float | None = None,
    transform: Transform,
) -> str:
    """The delivery URL of ``image`` (an Image, its id, ``@alias`` or its URL)."""
    ref = image.storage_url if isinstance(image, Image) else image
    if ref.startswith(("http://", "https://")):
        parts = urlsplit(ref)
        base, path = f"{parts.scheme}://{parts.netloc}", parts.path
    else:
        org, project = _where(config, "an image URL from an id or alias")
        base, path = config.cdn_base_url, image_path(org, project, ref)
    pairs = transform_pairs(transform)
    key = _signing(config.signing_key, sign, "the delivery signing key (Banatie(signing_key=…))")
    if key is not None:
        pairs = sign_pairs(
            key, path, pairs, TRANSFORM_PARAMS, expires_at=expiry(expires_at, expires_in)
        )
    return f"{base}{path}?{encode(pairs)}" if pairs else f"{base}{path}"


def live_url(
    config: Config,
    scope: str,
    prompt: str,
    *,
    aspect_ratio: str | None = None,
    image_size: str | None = None,
    template: str | None = None,
    auto_enhance: bool | None = None,
    namespace: str | None = None,
    sign: bool | None = None,
    expires_at: int | float | datetime | None = None,
    expires_in: float | None = None,
    transform: Transform,
) -> str:
    """A live URL: generated on its first request, served from the cache after."""
    org, project = _where(config, "a live URL")
    path = live_path(org, project, scope)
    pairs = [("prompt", prompt)]
    for name, value in (
        ("aspectRatio", aspect_ratio),
        ("imageSize", image_size),
        ("template", template),
        ("namespace", namespace),
    ):
        if value is not None:
            pairs.append((name, value))
    if auto_enhance is not None:
        pairs.append(("autoEnhance", "true" if auto_enhance else "false"))
    pairs += transform_pairs(transform)
    key = _signing(
        config.live_signing_secret,
        sign,
        "the project's live signing secret (Banatie(live_signing_secret=…))",
    )
    if key is not None:
        pairs = sign_pairs(
            key,
            path,
            pairs,
            LIVE_PARAMS | TRANSFORM_PARAMS,
            expires_at=expiry(expires_at, expires_in),
        )
    return f"{config.cdn_base_url}{path}?{encode(pairs)}"


class ImageUrls:
    """``images.url``: the same on the sync and async clients (it sends nothing)."""

    _config: Config

    def url(
        self,
        image: ImageRef,
        *,
        sign: bool | None = None,
        expires_at: int | float | datetime | None = None,
        expires_in: float | None = None,
        **transform: Unpack[Transform],
    ) -> str:
        """The image's URL with transformations (``w``, ``h``, ``mode``, ``format`` …), signed
        with the client's ``signing_key`` when it has one (or ``sign=True``)."""
        return image_url(
            self._config,
            image,
            sign=sign,
            expires_at=expires_at,
            expires_in=expires_in,
            transform=transform,
        )


class LiveUrls:
    """``live.url``: the same on the sync and async clients (it sends nothing)."""

    _config: Config

    def url(
        self,
        scope: str,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        image_size: str | None = None,
        template: str | None = None,
        auto_enhance: bool | None = None,
        namespace: str | None = None,
        sign: bool | None = None,
        expires_at: int | float | datetime | None = None,
        expires_in: float | None = None,
        **transform: Unpack[Transform],
    ) -> str:
        """A live URL, built here: no request. Signed with ``live_signing_secret`` if set."""
        return live_url(
            self._config,
            scope,
            prompt,
            aspect_ratio=aspect_ratio,
            image_size=image_size,
            template=template,
            auto_enhance=auto_enhance,
            namespace=namespace,
            sign=sign,
            expires_at=expires_at,
            expires_in=expires_in,
            transform=transform,
        )
