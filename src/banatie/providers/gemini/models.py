"""Which Gemini models Banatie talks to, and what each can do.

Models come and go every few months, so no release hard-codes one. With
`BANATIE_GEMINI_IMAGE_MODEL` / `BANATIE_GEMINI_TEXT_MODEL` unset, `ModelResolver` lists the models
the key can use (`models.list`, every page) and takes the first listed id of a short preference
list (newest first), else the newest listed Flash model that generates images (resp. text). A
pinned id is used only if it is listed; otherwise `ModelUnavailable` (503) names it and what is
listed. A call answered 404 for the model makes the adapters resolve again (`forget`).

What a model can do comes from the family table in `banatie.providers.gemini.families`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal

from banatie.providers.capabilities import ImageCapabilities
from banatie.providers.errors import ModelUnavailable, ProviderError
from banatie.providers.gemini.families import (
    IMAGE_PREFERENCE,
    TEXT_PREFERENCE,
    C,
    ModelId,
    TextCapabilities,
    bare_id,
    image_capabilities,
    parse_model_id,
    text_capabilities,
)
from banatie.settings import Settings

logger = logging.getLogger("banatie.providers.gemini")

Kind = Literal["image", "text"]

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
