"""The embedded image synthesizer: a deterministic, seeded composition (no network, no keys).

Same request -> identical PNG bytes, of the exact Gemini 2.5 Flash Image size for the aspect
ratio at imageSize 1K (its own capabilities row, `LOCAL_CAPABILITIES`: 512, 2K and 4K are the
same picture rescaled). The picture shows what was asked, as far as rules can: the prompt's
subject (an OpenMoji picture found by its name in the prompt's language), its scene words (snow,
night, sea, city, forest ...), the template's look (scene, studio shot, sticker, comic panel,
minimal poster) and the namespace style's palette (its colour words, its style images' colours,
pastel, neon ...). Every reference image is composited visibly (on a white card with a soft
shadow) so a user sees that `@logo` was used; a namespace's style images colour the picture
instead.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import numpy.typing as npt
import pyvips

from banatie.imaging.pool import CpuPool
from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.errors import ProviderError, UnsupportedByModel
from banatie.providers.local.compose import (
    apply_grade,
    draw_subject,
    paint_background,
    placement,
)
from banatie.providers.local.enhancer import split_directives, strip_guidance
from banatie.providers.local.look import choose_look, grade_for
from banatie.providers.local.model import LOCAL_CAPABILITIES, LOCAL_MODEL, MAX_REFERENCE_IMAGES
from banatie.providers.local.scene import (
    Canvas,
    PromptCues,
    SeededRandom,
    choose_palette,
    read_cues,
)
from banatie.providers.local.subjects import main_subjects
from banatie.providers.ports import (
    ASPECT_RATIO_SIZES,
    ReferenceImage,
    SynthesisRequest,
    SynthesizedImage,
)

# A reference card's longest side, as a fraction of the output's short side.
_CARD_FRACTION = 0.30


def seed_for(request: SynthesisRequest) -> bytes:
    """SHA-256 of everything that determines the picture."""
    payload = json.dumps(
        {
            "v": 2,
            "prompt": request.prompt,
            "aspectRatio": request.aspect_ratio,
            "style": request.style,
            "negative": request.negative_prompt,
            "template": request.template,
            "refs": [
                [hashlib.sha256(ref.data).hexdigest(), ref.role] for ref in request.reference_images
            ],
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).digest()


def _load_reference(ref: ReferenceImage, box: int) -> npt.NDArray[np.float32]:
    """Decode and fit a reference into box x box; RGBA float32 0..1."""
    label = f"@{ref.alias}" if ref.alias else ref.image_id
    try:
        image = pyvips.Image.thumbnail_buffer(ref.data, box, height=box)
        if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
            image = image.colourspace("srgb")
        if image.bands in (1, 2):  # grey (+ alpha) -> RGB (+ alpha)
            alpha = image.extract_band(1) if image.bands == 2 else None
            grey = image.extract_band(0)
            image = grey.bandjoin([grey, grey])
            if alpha is not None:
                image = image.bandjoin(alpha)
        if image.bands == 3:
            image = image.bandjoin(255)
        image = image.extract_band(0, n=4).cast("uchar")
        pixels = image.numpy()
    except pyvips.Error as exc:
        raise ProviderError(f"reference image {label} could not be decoded") from exc
    return np.asarray(pixels, dtype=np.float32) / 255.0


def _card_slots(width: int, height: int, count: int, card: int) -> list[tuple[int, int]]:
    """Centres for `count` cards, evenly spread along the long axis, in the lower-middle band."""
    landscape = width >= height
    long_side = width if landscape else height
    step = long_side / (count + 1)
    slots = []
    for i in range(count):
        along = round(step * (i + 1))
        if landscape:
            across = int(height * (0.62 if count > 1 else 0.6))
            across = min(across, height - card // 2 - 8)
            slots.append((along, across))
        else:
            slots.append((width // 2, along))
    return slots


def _composite_references(
    canvas: npt.NDArray[np.float32], refs: list[npt.NDArray[np.float32]], card_side: int
) -> None:
    height, width = canvas.shape[:2]
    border = max(4, card_side // 28)
    slots = _card_slots(width, height, len(refs), card_side + 2 * border)
    ys = np.arange(height, dtype=np.float32)[:, None]
    xs = np.arange(width, dtype=np.float32)[None, :]
    for ref, (cx, cy) in zip(refs, slots, strict=True):
        rh, rw = ref.shape[:2]
        ch, cw = rh + 2 * border, rw + 2 * border
        x0 = int(np.clip(cx - cw // 2, 0, width - cw))
        y0 = int(np.clip(cy - ch // 2, 0, height - ch))
        # soft drop shadow: distance to the (offset) card rectangle, smooth falloff
        spread = border * 3.0
        off = border * 0.8
        sx0, sy0 = max(0, int(x0 - spread)), max(0, int(y0 - spread + off))
        sx1 = min(width, int(x0 + cw + spread + off))
        sy1 = min(height, int(y0 + ch + spread + 2 * off))
        if sx0 < sx1 and sy0 < sy1:
            dx = np.maximum(
                np.maximum(x0 + off - xs[:, sx0:sx1], xs[:, sx0:sx1] - (x0 + cw + off)), 0
            )
            dy = np.maximum(
                np.maximum(y0 + 2 * off - ys[sy0:sy1], ys[sy0:sy1] - (y0 + ch + 2 * off)), 0
            )
            dist = np.sqrt(dx * dx + dy * dy)
            shadow = 0.35 * np.clip(1.0 - dist / spread, 0.0, 1.0) ** 2
            canvas[sy0:sy1, sx0:sx1] *= (1.0 - shadow)[..., None]
        # white card, then the reference over it (alpha-composited onto white)
        canvas[y0 : y0 + ch, x0 : x0 + cw] = 1.0
        rgb, alpha = ref[..., :3], ref[..., 3:4]
        inner = canvas[y0 + border : y0 + border + rh, x0 + border : x0 + border + rw]
        inner[:] = rgb * alpha + inner * (1.0 - alpha)


def _without(cues: PromptCues, negative: str) -> PromptCues:
    """The cues less what the negative prompt rules out ("no snow", "avoid red")."""
    if not negative:
        return cues
    banned = read_cues(negative)
    return PromptCues(
        hues=tuple(h for h in cues.hues if h not in banned.hues),
        neutral=cues.neutral if banned.neutral is None else None,
        themes=tuple(t for t in cues.themes if t not in banned.themes),
        landscape=cues.landscape and not banned.landscape,
    )


def _paint(request: SynthesisRequest, width: int, height: int) -> Canvas:
    rnd = SeededRandom(seed_for(request))
    # Subject, colour and scene words come from the user's words, not the enhancer's boilerplate;
    # the style and the things to avoid may arrive as sentences of an enhanced prompt.
    words, prompt_style, avoid = split_directives(strip_guidance(request.prompt))
    style = request.style or prompt_style
    negative = " ".join(filter(None, [request.negative_prompt, avoid]))
    cues = _without(read_cues(words), negative)
    look = choose_look(request.template, request.prompt)
    palette = choose_palette(cues, rnd)
    style_images = [ref.data for ref in request.reference_images if ref.role == "style"]
    grade = grade_for(style, style_images)
    canvas = Canvas(width, height)
    ground = paint_background(canvas, look, cues, palette, rnd)
    if look.template == "photorealistic":  # depth of field: the background out of focus
        blurred = pyvips.Image.new_from_array(canvas.px.reshape(3 * height, width)).gaussblur(
            max(1.0, canvas.short / 150), precision="approximate"
        )
        canvas.px = np.asarray(blurred.numpy(), dtype=np.float32).reshape(3, height, width)
    if grade is not None:
        apply_grade(canvas, grade)
    where = placement(look, canvas, ground, rnd)
    for subject in main_subjects(words, exclude=negative, limit=1):
        draw_subject(canvas, subject, look, palette, where, grade)
    if look.template in ("general", "illustration", "photorealistic"):
        canvas.vignette(0.3 if look.shaded else 0.18)
    return canvas


def _synthesize_png(request: SynthesisRequest, out_width: int, out_height: int) -> bytes:
    # The picture is composed at 1K and rescaled to other imageSizes: one picture per request.
    width, height = ASPECT_RATIO_SIZES[request.aspect_ratio]
    canvas = _paint(request, width, height)
    cards = [ref for ref in request.reference_images if ref.role != "style"]
    if cards:
        count = len(cards)
        short, long_side = min(width, height), max(width, height)
        # cards must fit side by side along the long axis with margins
        fit = (long_side - (count + 1) * 16) / count
        card_side = int(min(short * _CARD_FRACTION, fit * 0.94))
        refs = [_load_reference(ref, card_side) for ref in cards]
        pixels = np.ascontiguousarray(np.moveaxis(canvas.px, 0, -1))
        _composite_references(pixels, refs, card_side)
        canvas.px = np.ascontiguousarray(np.moveaxis(pixels, -1, 0))
    image = pyvips.Image.new_from_array(canvas.to_uint8(), interpretation="srgb")
    if (out_width, out_height) != (width, height):
        image = image.resize(out_width / width, vscale=out_height / height, kernel="lanczos3")
    data: bytes = image.pngsave_buffer(compression=6, keep=pyvips.enums.ForeignKeep.NONE)
    return data


class LocalSynthesizer:
    """Deterministic embedded ImageSynthesizer (DESIGN.md §1)."""

    name = "local"

    def __init__(self, model: str = LOCAL_MODEL, *, cpu: CpuPool | None = None) -> None:
        self.model = model
        self.cpu = cpu or CpuPool()

    async def capabilities(self) -> ImageCapabilities:
        return LOCAL_CAPABILITIES

    async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
        size = LOCAL_CAPABILITIES.dimensions(request.aspect_ratio, request.image_size)
        if size is None:  # as a remote model answers a ratio it lacks (UnsupportedByModel)
            raise UnsupportedByModel(
                f"unknown aspect ratio {request.aspect_ratio!r} or image size "
                f"{request.image_size!r}; valid aspect ratios: "
                f"{', '.join(LOCAL_CAPABILITIES.aspect_ratios)}, "
                f"sizes: {', '.join(LOCAL_CAPABILITIES.image_sizes)}"
            )
        if len(request.reference_images) > MAX_REFERENCE_IMAGES:
            raise ValueError(
                f"at most {MAX_REFERENCE_IMAGES} reference images per generation, "
                f"got {len(request.reference_images)}"
            )
        data = await self.cpu.run(_synthesize_png, request, *size)
        return SynthesizedImage(data=data, mime_type="image/png", model=self.model, usage={})


__all__ = [
    "LOCAL_CAPABILITIES",
    "LOCAL_MODEL",
    "MAX_REFERENCE_IMAGES",
    "LocalSynthesizer",
    "seed_for",
]
