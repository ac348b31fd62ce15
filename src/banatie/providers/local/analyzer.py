"""The embedded asset analyzer: libvips + numpy, no network, no keys.

Everything works on a shrink-on-load thumbnail (`pyvips.Image.thumbnail_buffer`), so analysing
a full-size generation costs a few tens of milliseconds:

* focal point - libvips' attention detector (`smartcrop(interesting="attention")` exposes the
  attention centre as `attention_x` / `attention_y`, libvips >= 8.15). libvips finds the peak on
  a coarse grid and, on a featureless image, reports the top-left corner; so we ask twice, on the
  image and on the image turned 180 degrees, and average the two answers: a real peak agrees
  with itself (and the average lands mid-cell), a flat image averages to the centre.
* dominant colours - weighted k-means in CIELAB over quantised colours of a 64 px thumbnail.
* placeholder hash - BlurHash, 4x3 components, of a 32 px thumbnail.
* alt text - the prompt's first sentence (no `@alias` tokens, <= 125 characters), else the
  file name, else a plain description ("Image, 1024x768, mostly blue" with a times sign).
"""

from __future__ import annotations

import colorsys
import io
import re
from dataclasses import dataclass
from typing import Any

import blurhash
import numpy as np
import numpy.typing as npt
import pyvips

from banatie.imaging.pool import CpuPool
from banatie.providers.ports import AnalysisRequest, AssetAnalysis

ALT_TEXT_MAX = 125
ANALYSIS_SIZE = 256  # thumbnail for the attention detector
COLOUR_SIZE = 64  # thumbnail for colour statistics
HASH_SIZE = 32  # thumbnail for the BlurHash
BLURHASH_COMPONENTS = (4, 3)
MAX_COLOURS = 5

_LOADER_MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "svg": "image/svg+xml",
    "jp2k": "image/jp2",
    "jxl": "image/jxl",
    "bmp": "image/bmp",
}
_ALIAS_RE = re.compile(r"(?:^|(?<=\s))@[\w-]+")
_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+|[。！？\n]+")
_WS_RE = re.compile(r"\s+")
_GENERIC_NAME_WORDS = frozenset(
    (
        "img", "dsc", "dscn", "dscf", "pxl", "mvimg", "image", "images", "photo", "photos",
        "pic", "picture", "screenshot", "screen", "shot", "scan", "untitled", "download",
        "file", "copy", "final", "edited", "export", "new", "at", "of", "the",
    )
)  # fmt: skip


# --- pure helpers (unit-tested directly) ---------------------------------------------------


def _truncate(text: str, limit: int = ALT_TEXT_MAX) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def _sentence_case(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first[:1].islower() and first[1:] == first[1:].lower():  # leave "iPhone", "eBay" alone
        return text[:1].upper() + text[1:]
    return text


def alt_text_from_prompt(prompt: str | None) -> str | None:
    """First sentence of the prompt without `@alias` tokens, at most 125 characters."""
    if not prompt:
        return None
    for sentence in _SENTENCE_RE.split(_ALIAS_RE.sub(" ", prompt)):
        sentence = _WS_RE.sub(" ", sentence).strip()
        sentence = re.sub(r"\s+([,.;:!?])", r"\1", sentence)  # "mug , style" left by an alias
        sentence = sentence.strip(" .,;:!?…-")
        if re.search(r"\w", sentence):
            return _truncate(_sentence_case(sentence))
    return None


def alt_text_from_filename(filename: str | None) -> str | None:
    """A readable name ("summer-sale_banner.png" -> "Summer sale banner"), or None for camera
    and hash names such as "IMG_1234.JPG" or "3f2a9c1e-….png"."""
    if not filename:
        return None
    stem = re.split(r"[\\/]", filename)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    if re.fullmatch(r"[0-9a-fA-F-]{12,}", stem):
        return None
    text = _WS_RE.sub(" ", re.sub(r"[_\-.+]+", " ", stem)).strip()
    words = [w for w in re.findall(r"[^\W\d_]{2,}", text.lower()) if w not in _GENERIC_NAME_WORDS]
    if not words:
        return None
    return _truncate(_sentence_case(text))


def colour_name(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    deg = h * 360
    if v < 0.16:
        return "black"
    if s < 0.14 or (s < 0.22 and v < 0.35):
        return "white" if v > 0.88 else "grey"
    if 15 <= deg < 48 and v < 0.62:
        return "brown"
    if deg < 15 or deg >= 345:
        return "pink" if s < 0.45 and v > 0.8 else "red"
    if deg < 42:
        return "orange"
    if deg < 70:
        return "yellow"
    if deg < 160:
        return "green"
    if deg < 195:
        return "teal" if v < 0.75 else "cyan"
    if deg < 255:
        return "blue"
    if deg < 290:
        return "purple"
    return "pink" if v > 0.7 else "magenta"


def describe(width: int, height: int, colours: list[str]) -> str:
    text = f"Image, {width}×{height}"
    if colours:
        text += f", mostly {colour_name(colours[0])}"
    return text


def dominant_colours(
    rgb: npt.NDArray[np.uint8],
    lab: npt.NDArray[np.float32],
    weight: npt.NDArray[np.float32],
    max_colours: int = MAX_COLOURS,
) -> list[str]:
    """Up to `max_colours` dominant colours (most prominent first) as "#rrggbb".

    Pixels are quantised to 5 bits per channel; bins are clustered with a weighted k-means in
    CIELAB (greedy, frequency-ordered seeding, so the result is deterministic); each cluster is
    reported as the mean colour of its most populous bin, so flat areas come back exact.
    """
    rgb = rgb.reshape(-1, 3)
    lab = lab.reshape(-1, 3).astype(np.float64)
    w = weight.reshape(-1).astype(np.float64)
    keep = w > 0
    if not keep.any():
        keep = np.ones_like(w, dtype=bool)
        w = np.ones_like(w)
    rgb, lab, w = rgb[keep], lab[keep], w[keep]
    q = rgb.astype(np.int64) >> 3
    key = (q[:, 0] << 10) | (q[:, 1] << 5) | q[:, 2]
    bins, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = np.bincount(inverse, weights=w, minlength=len(bins))
    sums_lab = np.stack([np.bincount(inverse, w * lab[:, c], len(bins)) for c in range(3)], 1)
    sums_rgb = np.stack([np.bincount(inverse, w * rgb[:, c], len(bins)) for c in range(3)], 1)
    bin_lab = sums_lab.astype(np.float64) / count[:, None]
    bin_rgb = sums_rgb.astype(np.float64) / count[:, None]

    order = np.argsort(-count, kind="stable")
    centres: list[npt.NDArray[np.float64]] = []
    for i in order:
        if len(centres) == max_colours + 2:
            break
        if all(np.linalg.norm(bin_lab[i] - c) >= 18.0 for c in centres):
            centres.append(bin_lab[i])
    centre_arr = np.array(centres)
    for _ in range(8):
        dist = np.linalg.norm(bin_lab[:, None, :] - centre_arr[None, :, :], axis=2)
        label = dist.argmin(axis=1)
        mass = np.bincount(label, weights=count, minlength=len(centre_arr))
        for k in range(len(centre_arr)):
            if mass[k] > 0:
                members = label == k
                centre_arr[k] = (bin_lab[members] * count[members, None]).sum(0) / mass[k]
    dist = np.linalg.norm(bin_lab[:, None, :] - centre_arr[None, :, :], axis=2)
    label = dist.argmin(axis=1)
    mass = np.bincount(label, weights=count, minlength=len(centre_arr))
    total = mass.sum()

    result: list[str] = []
    chosen_lab: list[npt.NDArray[np.float64]] = []
    for k in np.argsort(-mass, kind="stable"):
        if mass[k] <= 0 or (result and mass[k] / total < 0.02):
            continue
        members = np.nonzero(label == k)[0]
        top = members[np.argmax(count[members])]
        if any(np.linalg.norm(bin_lab[top] - c) < 10.0 for c in chosen_lab):
            continue
        chosen_lab.append(bin_lab[top])
        r, g, b = (round(float(v)) for v in bin_rgb[top])
        result.append(f"#{r:02x}{g:02x}{b:02x}")
        if len(result) == max_colours:
            break
    return result


# --- libvips work (runs in the CPU pool) ---------------------------------------------------


@dataclass(frozen=True)
class _Pixels:
    width: int
    height: int
    mime_type: str
    has_alpha: bool
    focal: tuple[float, float]
    colours: list[str]
    placeholder: str


def _mime_from_loader(image: pyvips.Image, fallback: str) -> str:
    loader = str(image.get("vips-loader")) if image.get_typeof("vips-loader") else ""
    name = loader.split("load", 1)[0]
    if name == "heif":
        compression = ""
        if image.get_typeof("heif-compression"):
            compression = str(image.get("heif-compression"))
        return "image/avif" if compression == "av1" else "image/heic"
    return _LOADER_MIME.get(name, fallback or "application/octet-stream")


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB with an optional alpha band, whatever came in (grey, 16-bit, CMYK ...)."""
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands == 1:
        image = image.bandjoin([image, image])
    elif image.bands == 2:
        grey = image.extract_band(0)
        image = grey.bandjoin([grey, grey, image.extract_band(1)])
    elif image.bands > 4:
        image = image.extract_band(0, n=4)
    return image


def _focal_point(image: pyvips.Image) -> tuple[float, float]:
    width, height = image.width, image.height
    crop_w, crop_h = max(1, width // 4), max(1, height // 4)
    points = []
    for turned in (False, True):
        source = image.rot180() if turned else image
        result: tuple[Any, dict[str, int]] = source.smartcrop(
            crop_w, crop_h, interesting="attention", attention_x=True, attention_y=True
        )
        found = result[1]
        x = found["attention_x"] / width
        y = found["attention_y"] / height
        points.append((1.0 - x, 1.0 - y) if turned else (x, y))
    fx = (points[0][0] + points[1][0]) / 2
    fy = (points[0][1] + points[1][1]) / 2
    return (round(min(1.0, max(0.0, fx)), 4), round(min(1.0, max(0.0, fy)), 4))


def _blurhash(image: pyvips.Image) -> str:
    small = image.thumbnail_image(HASH_SIZE, height=HASH_SIZE)
    png = small.pngsave_buffer(compression=1, keep=pyvips.enums.ForeignKeep.NONE)
    x, y = BLURHASH_COMPONENTS
    return str(blurhash.encode(io.BytesIO(png), x, y))


def _analyse_pixels(data: bytes, mime_hint: str) -> _Pixels:
    try:
        header = pyvips.Image.new_from_buffer(data, "")
        width, height = header.width, header.height
        if header.get_typeof("orientation") and int(header.get("orientation")) in (5, 6, 7, 8):
            width, height = height, width  # thumbnails are auto-rotated; report the same way
        mime_type = _mime_from_loader(header, mime_hint)
        thumb = pyvips.Image.thumbnail_buffer(
            data, ANALYSIS_SIZE, height=ANALYSIS_SIZE, size="down"
        )
        thumb = _to_srgb(thumb).copy_memory()
    except pyvips.Error as exc:
        raise ValueError(f"not a decodable image: {str(exc).splitlines()[0]}") from exc

    focal = _focal_point(thumb)
    alpha_present = thumb.bands == 4
    # Transparency, not just an alpha band: GIFs always load with one, opaque RGBA PNGs too.
    has_alpha = alpha_present and thumb.extract_band(3).min() < 255
    flat = thumb.flatten(background=[255, 255, 255]) if alpha_present else thumb

    small = thumb.thumbnail_image(COLOUR_SIZE, height=COLOUR_SIZE)
    pixels = small.numpy()
    rgb = pixels[..., :3]
    weight = (
        pixels[..., 3].astype(np.float32) / 255.0
        if alpha_present
        else np.ones(rgb.shape[:2], np.float32)
    )
    weight[weight < 0.5] = 0.0  # mostly transparent pixels say nothing about the colours
    lab = small.extract_band(0, n=3).copy(interpretation="srgb").colourspace("lab").numpy()
    colours = dominant_colours(rgb, lab, weight)
    return _Pixels(
        width=width,
        height=height,
        mime_type=mime_type,
        has_alpha=has_alpha,
        focal=focal,
        colours=colours,
        placeholder=_blurhash(flat),
    )


class LocalAnalyzer:
    """Embedded AssetAnalyzer (DESIGN.md §1): libvips statistics, no model."""

    name = "local"

    def __init__(self, cpu: CpuPool | None = None) -> None:
        self.cpu = cpu or CpuPool()

    async def analyze(self, request: AnalysisRequest) -> AssetAnalysis:
        px = await self.cpu.run(_analyse_pixels, request.data, request.mime_type)
        alt = (
            alt_text_from_prompt(request.prompt)
            or alt_text_from_filename(request.filename)
            or describe(px.width, px.height, px.colours)
        )
        tags = list(dict.fromkeys(colour_name(c) for c in px.colours))
        return AssetAnalysis(
            width=px.width,
            height=px.height,
            mime_type=px.mime_type,
            focal_x=px.focal[0],
            focal_y=px.focal[1],
            dominant_colors=px.colours,
            placeholder_hash=px.placeholder,
            alt_text=alt,
            has_alpha=px.has_alpha,
            description=None,
            tags=tags,
            analyzer="local",
        )


__all__ = [
    "LocalAnalyzer",
    "alt_text_from_filename",
    "alt_text_from_prompt",
    "colour_name",
    "describe",
    "dominant_colours",
]
