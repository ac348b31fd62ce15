"""Which Gemini models Banatie talks to, and what each can do.

Models come and go every few months, so no release hard-codes one. With
`BANATIE_GEMINI_IMAGE_MODEL` / `BANATIE_GEMINI_TEXT_MODEL` unset, `ModelResolver` lists the models
the key can use (`models.list`, every page) and takes the first listed id of a short preference
list (newest first), else the newest listed Flash model that generates images (resp. text). A
pinned id is used only if it is listed; otherwise `ModelUnavailable` (503) names it and what is
listed. A call answered 404 for the model makes the adapters resolve again (`forget`).

What a model can do comes from one table per model family (`IMAGE_FAMILIES`, `TEXT_FAMILIES`): the
aspect ratios and their pixel sizes per imageSize, thinking control, system instructions and
structured output. A model id the table has never seen gets the row of the newest known family of
its tier (Flash or Pro) that is not newer than it, e.g. `gemini-4-flash-image` is treated like
`gemini-3.1-flash-image`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from banatie.providers.capabilities import Dimensions, ImageCapabilities
from banatie.providers.errors import ModelUnavailable, ProviderError
from banatie.providers.ports import ASPECT_RATIO_SIZES
from banatie.settings import Settings

if TYPE_CHECKING:
    from google.genai import types

logger = logging.getLogger("banatie.providers.gemini")

Kind = Literal["image", "text"]
Tier = Literal["flash", "pro"]

# ----------------------------------------------------------------------------- capabilities


@dataclass(frozen=True)
class TextCapabilities:
    """What a text model (the enhancer's and the analyzer's) accepts."""

    model: str
    family: str
    # "budget" (Gemini 2.5: thinking_budget), "level" (Gemini 3: thinking_level), "none".
    thinking: Literal["budget", "level", "none"]
    # The cheapest setting the family accepts (budget 0, level MINIMAL / LOW); None: the family
    # cannot turn thinking down (2.5 Pro), so nothing is sent.
    fastest_thinking: int | str | None
    system_instruction: bool = True
    structured_output: bool = True

    def thinking_config(self) -> types.ThinkingConfig | None:
        """The agents' small JSON tasks need no thinking, and thinking adds seconds."""
        from google.genai import types  # here: this module's tables load without google-genai

        if self.fastest_thinking is None or self.thinking == "none":
            return None
        if self.thinking == "budget":
            return types.ThinkingConfig(thinking_budget=int(self.fastest_thinking))
        return types.ThinkingConfig(thinking_level=types.ThinkingLevel(str(self.fastest_thinking)))

    def for_model(self, model: str) -> TextCapabilities:
        return replace(self, model=model)

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "family": self.family,
            "thinking": self.thinking,
            "fastestThinking": self.fastest_thinking,
            "systemInstruction": self.system_instruction,
            "structuredOutput": self.structured_output,
        }


C = TypeVar("C", ImageCapabilities, TextCapabilities)

# Gemini 3.x image models at imageSize 1K (Google's image-generation guide; its 512, 2K and 4K
# columns are these halved, doubled and quadrupled).
GEMINI_3_1K: dict[str, Dimensions] = {
    "1:1": (1024, 1024),
    "1:4": (512, 2048),
    "1:8": (384, 3072),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:1": (2048, 512),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "8:1": (3072, 384),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
}
_SCALE = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}
TEN_RATIOS: tuple[str, ...] = tuple(ASPECT_RATIO_SIZES)


def gemini_3_sizes(ratios: Iterable[str], sizes: Sequence[str]) -> dict[str, dict[str, Dimensions]]:
    """The Gemini 3.x size table for these aspect ratios and imageSizes."""
    chosen = {ratio: GEMINI_3_1K[ratio] for ratio in ratios}
    return {
        size: {
            r: (round(w * _SCALE[size]), round(h * _SCALE[size])) for r, (w, h) in chosen.items()
        }
        for size in sizes
    }


@dataclass(frozen=True)
class Family(Generic[C]):
    name: str
    tier: Tier
    version: tuple[int, ...]
    capabilities: C


def _image(
    name: str, tier: Tier, version: tuple[int, ...], sizes: dict[str, dict[str, Dimensions]],
    **options: Any,
) -> Family[ImageCapabilities]:  # fmt: skip
    return Family(name, tier, version, ImageCapabilities(name, name, sizes, **options))


def _text(
    name: str, tier: Tier, version: tuple[int, ...], thinking: Literal["budget", "level"],
    fastest: int | str | None,
) -> Family[TextCapabilities]:  # fmt: skip
    return Family(name, tier, version, TextCapabilities(name, name, thinking, fastest))


IMAGE_FAMILIES: tuple[Family[ImageCapabilities], ...] = (
    # One size (1K) and no imageSize parameter.
    _image("gemini-2.5-flash-image", "flash", (2, 5), {"1K": dict(ASPECT_RATIO_SIZES)},
           sends_image_size=False),
    _image("gemini-3-pro-image", "pro", (3,), gemini_3_sizes(TEN_RATIOS, ("1K", "2K", "4K")),
           thinking="always (cannot be turned off)"),
    _image("gemini-3.1-flash-image", "flash", (3, 1),
           gemini_3_sizes(GEMINI_3_1K, ("512", "1K", "2K", "4K")),
           thinking="level: minimal (default) or high"),
)  # fmt: skip

TEXT_FAMILIES: tuple[Family[TextCapabilities], ...] = (
    _text("gemini-2.5-flash", "flash", (2, 5), "budget", 0),
    # 2.5 Pro thinks at least 128 tokens: thinking cannot be turned off.
    _text("gemini-2.5-pro", "pro", (2, 5), "budget", None),
    _text("gemini-3-flash", "flash", (3,), "level", "MINIMAL"),
    _text("gemini-3-pro", "pro", (3,), "level", "LOW"),
)

# Known ids, newest first. A model that goes GA drops "-preview", so the GA id comes first.
IMAGE_PREFERENCE: tuple[str, ...] = (
    "gemini-3.1-flash-image",
    "gemini-3.1-flash-image-preview",
    "gemini-2.5-flash-image",
)
TEXT_PREFERENCE: tuple[str, ...] = ("gemini-3-flash", "gemini-3-flash-preview", "gemini-2.5-flash")
# Flash models that answer in something other than text (or only embed it).
_NOT_TEXT_WORDS = frozenset(
    {"image", "tts", "audio", "live", "embedding", "computer", "robotics", "dialog", "thinking"}
)

# ----------------------------------------------------------------------------- model ids

_MODEL_ID = re.compile(
    r"^gemini-(?P<version>\d+(?:\.\d+)*)-(?P<tier>flash-lite|flash|pro)(?P<rest>.*)$"
)
_UNSTABLE_WORDS = frozenset({"preview", "exp", "experimental"})


@dataclass(frozen=True)
class ModelId:
    """`gemini-3.1-flash-image-preview` -> version (3, 1), tier flash, words {image, preview}."""

    id: str
    version: tuple[int, ...]
    tier: Tier
    lite: bool
    words: frozenset[str]

    @property
    def stable(self) -> bool:
        return not self.words & _UNSTABLE_WORDS

    @property
    def makes_images(self) -> bool:
        return "image" in self.words

    @property
    def makes_text(self) -> bool:
        return not self.words & _NOT_TEXT_WORDS

    def newness(self) -> tuple[tuple[int, ...], bool, bool, str]:
        """Sort key: higher version, then full over Lite, then GA over preview."""
        return (self.version, not self.lite, self.stable, self.id)


def bare_id(name: str) -> str:
    return name.strip().removeprefix("models/")


def parse_model_id(name: str) -> ModelId | None:
    model = bare_id(name)
    match = _MODEL_ID.match(model)
    if match is None:
        return None
    tier = match.group("tier")
    return ModelId(
        id=model,
        version=tuple(int(part) for part in match.group("version").split(".")),
        tier="pro" if tier == "pro" else "flash",
        lite=tier == "flash-lite",
        words=frozenset(w for w in re.split(r"[-_]", match.group("rest").lower()) if w),
    )


def _family(model: str, families: Sequence[Family[C]]) -> Family[C]:
    """The family row of `model`: the newest known family of its tier not newer than it."""
    parsed = parse_model_id(model)
    if parsed is None:
        return families[0]  # an id of no known shape: the oldest (most conservative) row
    same_tier = [f for f in families if f.tier == parsed.tier] or list(families)
    older = [f for f in same_tier if f.version <= parsed.version]
    return max(older, key=lambda f: f.version) if older else min(same_tier, key=lambda f: f.version)


def image_capabilities(model: str) -> ImageCapabilities:
    return _family(model, IMAGE_FAMILIES).capabilities.for_model(bare_id(model))


def text_capabilities(model: str) -> TextCapabilities:
    if parse_model_id(model) is None:  # not a Gemini id we can read: send no thinking options
        return TextCapabilities(bare_id(model), "unknown", "none", None)
    return _family(model, TEXT_FAMILIES).capabilities.for_model(bare_id(model))


# ----------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ListedModel:
    """One entry of `models.list`."""

    id: str
    methods: tuple[str, ...] = ("generateContent",)

    @property
    def generates(self) -> bool:
        return not self.methods or "generateContent" in self.methods


@dataclass(frozen=True)
class ResolvedModel(Generic[C]):
    kind: Kind
    id: str
    # Why this model: "pinned", "preferred" or "newest listed".
    how: str
    capabilities: C

    def describe(self) -> dict[str, Any]:
        return {**self.capabilities.describe(), "model": self.id, "chosen": self.how}


class ModelListingUnsupported(ProviderError):
    """The endpoint has no `models.list` (404): some gateways and proxies only forward calls."""


ListModels = Callable[[], Awaitable[list[ListedModel]]]

SETTING: dict[Kind, str] = {
    "image": "BANATIE_GEMINI_IMAGE_MODEL",
    "text": "BANATIE_GEMINI_TEXT_MODEL",
}
_WHAT: dict[Kind, str] = {"image": "Flash image model", "text": "Flash text model"}


def choose(
    kind: Kind, listed: Sequence[ListedModel], *, excluded: Iterable[str] = ()
) -> tuple[str, str] | None:
    """(model id, how it was chosen) among the listed models, or None if none fits."""
    skip = set(excluded)
    usable = {m.id for m in listed if m.generates and m.id not in skip}
    for preferred in IMAGE_PREFERENCE if kind == "image" else TEXT_PREFERENCE:
        if preferred in usable:
            return preferred, "preferred"
    candidates = [
        parsed
        for model in usable
        if (parsed := parse_model_id(model)) is not None
        and parsed.tier == "flash"
        and (parsed.makes_images if kind == "image" else parsed.makes_text)
    ]
    if not candidates:
        return None
    return max(candidates, key=ModelId.newness).id, "newest listed"


def _relevant(kind: Kind, listed: Sequence[ListedModel]) -> list[str]:
    """The listed ids worth naming in an error about `kind` (all of them if none looks right)."""
    ids = sorted(m.id for m in listed)
    fitting = [
        model
        for model in ids
        if (parsed := parse_model_id(model)) is not None
        and (parsed.makes_images if kind == "image" else parsed.makes_text)
    ]
    return fitting or ids


class ModelResolver:
    """Resolves (and after a 404 re-resolves) the image and the text model from `models.list`."""

    def __init__(
        self,
        settings: Settings,
        list_models: ListModels,
        *,
        listing_ttl: float = 60.0,
        failure_ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pinned: dict[Kind, str | None] = {
            "image": bare_id(settings.gemini_image_model or "") or None,
            "text": bare_id(settings.gemini_text_model or "") or None,
        }
        self._list_models = list_models
        self._listing_ttl = listing_ttl
        # A failed listing is not repeated for this long: validation of every request asks for
        # the model's row, and must not wait for a down endpoint again and again.
        self._failure_ttl = failure_ttl
        self._failure: tuple[float, ProviderError] | None = None
        self._clock = clock
        self._listing: tuple[float, list[ListedModel]] | None = None
        self._image: ResolvedModel[ImageCapabilities] | None = None
        self._text: ResolvedModel[TextCapabilities] | None = None
        self._excluded: set[str] = set()
        self._lock = asyncio.Lock()
        self._warm_up: asyncio.Task[None] | None = None

    def pinned(self, kind: Kind) -> str | None:
        return self._pinned[kind]

    async def image(self) -> ResolvedModel[ImageCapabilities]:
        if self._image is None:
            self._image = await self._once("image", lambda: self._image, image_capabilities)
        return self._image

    async def text(self) -> ResolvedModel[TextCapabilities]:
        if self._text is None:
            self._text = await self._once("text", lambda: self._text, text_capabilities)
        return self._text

    async def _once(
        self,
        kind: Kind,
        current: Callable[[], ResolvedModel[C] | None],
        capabilities: Callable[[str], C],
    ) -> ResolvedModel[C]:
        """Resolve under the lock; who waited for it gets the result of whoever held it."""
        async with self._lock:
            found = current()
            if found is None:
                model, how = await self._choose(kind)
                found = ResolvedModel(kind, model, how, capabilities(model))
                _announce(found)
            return found

    def current_image_capabilities(self) -> ImageCapabilities:
        """The resolved image model's row, without any I/O; before the first resolution, the
        row of the pinned id or of the newest preferred family."""
        if self._image is not None:
            return self._image.capabilities
        return image_capabilities(self._pinned["image"] or IMAGE_PREFERENCE[0])

    async def forget(self, model: str) -> None:
        """A call answered 404 for `model`: list again, and never choose it again."""
        async with self._lock:
            self._excluded.add(model)
            self._listing = self._failure = None
            if self._image is not None and self._image.id == model:
                self._image = None
            if self._text is not None and self._text.id == model:
                self._text = None

    def warm_up(self) -> None:
        """Resolve both models in the background (at start-up), so the log says which."""
        if self._warm_up is None or self._warm_up.done():
            self._warm_up = asyncio.get_running_loop().create_task(self._resolve_both())

    async def aclose(self) -> None:
        if self._warm_up is not None and not self._warm_up.done():
            self._warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._warm_up

    async def _resolve_both(self) -> None:
        for resolve in (self.image, self.text):
            try:
                await resolve()
            except ProviderError as exc:
                logger.warning("Gemini model not resolved at start-up: %s", exc.message)

    async def _listed(self) -> list[ListedModel]:
        now = self._clock()
        if self._listing is not None and now - self._listing[0] < self._listing_ttl:
            return self._listing[1]
        if self._failure is not None and now - self._failure[0] < self._failure_ttl:
            raise self._failure[1]
        try:
            listed = await self._list_models()
        except ProviderError as exc:
            self._failure = (now, exc)
            raise
        self._failure = None
        self._listing = (now, listed)
        return listed

    async def _choose(self, kind: Kind) -> tuple[str, str]:
        pinned = self._pinned[kind]
        try:
            listed = await self._listed()
        except ModelListingUnsupported:
            if pinned is None:
                raise ModelUnavailable(
                    f"the Gemini endpoint does not list its models, so no {_WHAT[kind]} can be "
                    f"chosen; set {SETTING[kind]}"
                ) from None
            logger.warning("the Gemini endpoint lists no models; using %s unverified", pinned)
            return pinned, "pinned (the endpoint lists no models)"
        if pinned is not None:
            if pinned not in {m.id for m in listed}:
                raise ModelUnavailable(
                    f"the Gemini {kind} model {pinned!r} ({SETTING[kind]}) is not listed for "
                    "this API key; listed: " + _names(_relevant(kind, listed))
                )
            return pinned, "pinned"
        choice = choose(kind, listed, excluded=self._excluded)
        if choice is None:
            raise ModelUnavailable(
                f"no {_WHAT[kind]} is listed for this API key (listed: "
                + _names(_relevant(kind, listed))
                + f"); set {SETTING[kind]} to a model that is"
            )
        return choice


def _announce(model: ResolvedModel[Any]) -> None:
    caps = model.capabilities
    if isinstance(caps, ImageCapabilities):
        detail = f"{len(caps.aspect_ratios)} aspect ratios, imageSize {'/'.join(caps.image_sizes)}"
    else:
        detail = f"thinking {caps.thinking}"
    logger.info(
        "Gemini %s model: %s (%s; %s row: %s)", model.kind, model.id, model.how, caps.family, detail
    )


def _names(ids: Sequence[str], limit: int = 12) -> str:
    if not ids:
        return "none"
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")
