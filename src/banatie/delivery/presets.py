"""Named variant URLs and `srcset` strings handed out with every image."""

from __future__ import annotations

from dataclasses import dataclass

from banatie.delivery.urls import image_url


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


def variant_urls(
    base_url: str, org: str, project: str, image_id: str, presets: tuple[Preset, ...]
) -> dict[str, str]:
    urls = {p.name: image_url(base_url, org, project, image_id, p.query) for p in presets}
    urls["original"] = image_url(base_url, org, project, image_id)
    return urls


def srcset(base_url: str, org: str, project: str, image_id: str, width: int) -> str:
    widths = [w for w in SRCSET_WIDTHS if w < width] + [width]
    return ", ".join(
        f"{image_url(base_url, org, project, image_id, f'w={w}&format=auto')} {w}w" for w in widths
    )
