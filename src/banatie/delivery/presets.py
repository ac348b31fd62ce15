"""Named variant URLs and `srcset` strings handed out with every image.

With a signing key configured (``BANATIE_DELIVERY_SIGNING_KEY``) every URL built here is signed
through :mod:`banatie.delivery.signing`, so presets keep working when unsigned transforms are
refused and never count against an image's cap of unsigned variants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from banatie.delivery import signing
from banatie.delivery.urls import image_path, image_url

if TYPE_CHECKING:
    from banatie.settings import Settings


@dataclass(frozen=True)
class Preset:
    name: str
    query: str


DEFAULT_PRESETS: tuple[Preset, ...] = (
    Preset("thumbnail", "w=256&h=256&mode=crop&format=auto"),
    Preset("card", "w=640&h=360&mode=crop&format=auto"),
    Preset("hero", "w=1600&h=900&mode=crop&format=auto"),
    # Social crawlers do not negotiate formats well: Open Graph images are plain JPEG.
    Preset("og", "w=1200&h=630&mode=crop&format=jpeg"),
    Preset("avatar", "w=128&h=128&mode=crop&format=auto"),
)
SRCSET_WIDTHS: tuple[int, ...] = (320, 640, 960, 1280, 1920)
#: The widest srcset entry; wider images get an entry at this width (the transform limit).
SRCSET_MAX_WIDTH = 4096


def parse_presets(spec: str) -> tuple[Preset, ...]:
    """`name:query;name:query` (the query as in a URL) from settings, e.g.
    `square:w=512&h=512&mode=crop;banner:w=1500&h=500&mode=crop`."""
    presets = []
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        name, sep, query = item.partition(":")
        if not sep or not name.strip() or not query.strip():
            raise ValueError(f"preset {item!r} must look like name:w=…&h=…")
        presets.append(Preset(name.strip(), query.strip().lstrip("?")))
    return tuple(presets)


@dataclass(frozen=True)
class ImageHost:
    """Where a project's image URLs point (the delivery base URL, the organization's and the
    project's slugs) and the key that signs their transforms."""

    base_url: str
    org: str
    project: str
    signing_key: str | None = None

    @classmethod
    def of(cls, settings: Settings, org: str, project: str) -> ImageHost:
        return cls(settings.delivery_base_url, org, project, settings.delivery_signing_key)


def transform_url(host: ImageHost, ref: str, query: str) -> str:
    """The URL of image `ref` with transformation `query`, signed when there is a key."""
    if host.signing_key and query:
        path = image_path(host.org, host.project, ref)
        query = signing.sign_query(host.signing_key, path, query)
    return image_url(host.base_url, host.org, host.project, ref, query)


def variant_urls(host: ImageHost, image_id: str, presets: tuple[Preset, ...]) -> dict[str, str]:
    urls = {p.name: transform_url(host, image_id, p.query) for p in presets}
    urls["original"] = image_url(host.base_url, host.org, host.project, image_id)
    return urls


def srcset_widths(width: int) -> list[int]:
    top = min(max(1, width), SRCSET_MAX_WIDTH)
    return [w for w in SRCSET_WIDTHS if w < top] + [top]


def srcset_query(width: int, fmt: str = "auto") -> str:
    return f"w={width}&format={fmt}"


def srcset(host: ImageHost, image_id: str, width: int, *, fmt: str = "auto") -> str:
    """`srcset` of the image's widths up to `width`, in format `fmt`."""
    return ", ".join(
        f"{transform_url(host, image_id, srcset_query(w, fmt))} {w}w" for w in srcset_widths(width)
    )


def published_urls(
    settings: Settings, org: str, project: str, ref: str, *, width: int, queries: Iterable[str] = ()
) -> list[str]:
    """Every URL of `ref` that Banatie hands out or has rendered: the original, the presets,
    the srcset widths and the extra `queries` (unsigned, and signed when there is a key).
    This is what a CDN purge by URL has to cover."""
    host = ImageHost.of(settings, org, project)
    urls = list(variant_urls(host, ref, settings.presets).values())
    urls += [transform_url(host, ref, srcset_query(w)) for w in srcset_widths(width)]
    for query in queries:
        urls.append(image_url(host.base_url, org, project, ref, query))
        if host.signing_key and query:
            urls.append(transform_url(host, ref, query))
    return list(dict.fromkeys(urls))
