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


def transform_url(
    base_url: str, org: str, project: str, ref: str, query: str, signing_key: str | None = None
) -> str:
    """The URL of image `ref` with transformation `query`, signed when there is a key."""
    if signing_key and query:
        query = signing.sign_query(signing_key, image_path(org, project, ref), query)
    return image_url(base_url, org, project, ref, query)


def variant_urls(
    base_url: str,
    org: str,
    project: str,
    image_id: str,
    presets: tuple[Preset, ...],
    signing_key: str | None = None,
) -> dict[str, str]:
    urls = {
        p.name: transform_url(base_url, org, project, image_id, p.query, signing_key)
        for p in presets
    }
    urls["original"] = image_url(base_url, org, project, image_id)
    return urls


def srcset_widths(width: int) -> list[int]:
    top = min(max(1, width), SRCSET_MAX_WIDTH)
    return [w for w in SRCSET_WIDTHS if w < top] + [top]


def srcset_query(width: int, fmt: str = "auto") -> str:
    return f"w={width}&format={fmt}"


def srcset(
    base_url: str,
    org: str,
    project: str,
    image_id: str,
    width: int,
    signing_key: str | None = None,
    *,
    fmt: str = "auto",
) -> str:
    """`srcset` of the image's widths up to `width`, in format `fmt`."""
    return ", ".join(
        f"{transform_url(base_url, org, project, image_id, srcset_query(w, fmt), signing_key)} {w}w"
        for w in srcset_widths(width)
    )


def published_urls(
    settings: Settings, org: str, project: str, ref: str, *, width: int, queries: Iterable[str] = ()
) -> list[str]:
    """Every URL of `ref` that Banatie hands out or has rendered: the original, the presets,
    the srcset widths and the extra `queries` (unsigned, and signed when there is a key).
    This is what a CDN purge by URL has to cover."""
    base_url, signing_key = settings.delivery_base_url, settings.delivery_signing_key
    urls = list(variant_urls(base_url, org, project, ref, settings.presets, signing_key).values())
    urls += [
        transform_url(base_url, org, project, ref, srcset_query(w), signing_key)
        for w in srcset_widths(width)
    ]
    for query in queries:
        urls.append(image_url(base_url, org, project, ref, query))
        if signing_key and query:
            urls.append(transform_url(base_url, org, project, ref, query, signing_key))
    return list(dict.fromkeys(urls))
