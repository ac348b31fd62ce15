"""Transformation parameters: parsing, normalising, format negotiation and output geometry.

One import for callers; the parts are :mod:`.spec` (the normalised transform), :mod:`.parse`
(query parameters), :mod:`.formats` (output formats and negotiation) and :mod:`.geometry`.

Pure Python, no libvips: everything here is cheap enough to run on the event loop. The pixel
work lives in :mod:`banatie.delivery.transform`.

Parameter names follow Imageflow's RIAPI: ``w``/``width``, ``h``/``height``, ``mode``, ``scale``,
``anchor``, ``c.gravity``, ``dpr``, ``format``/``fmt``, ``quality``, ``bgcolor``, and the effects
of :mod:`banatie.delivery.effects` (rotation, flips, trim, filters, watermark). ``preset=name``
starts from a named preset. Unknown parameters are ignored (``strict=true`` refuses them); a
bad value raises :class:`TransformError`.

Semantics decided here (and relied on by the renderer and by caches):

* ``dpr`` multiplies ``w`` and ``h`` and is folded into them, so ``w=200&dpr=2`` and ``w=400``
  are the same transform. With neither ``w`` nor ``h`` it has no effect.
* With only one of ``w``/``h`` every mode behaves like ``max`` (keep the aspect ratio).
* For ``mode=crop`` an ``anchor`` is the same as ``c.gravity`` at 0/50/100 percent, and
  ``c.gravity`` wins over ``anchor``. ``c.gravity`` names the point the crop window is centred on
  (clamped inside the image), just like the image's stored focal point, which is the default.
* ``bgcolor`` defaults to transparent; when the output is JPEG any colour is composited over
  white, so the default there is white. Every fully transparent colour is the same colour.
* ``scale=down`` never enlarges: when the source is too small the whole target box is scaled
  down, keeping its aspect ratio. ``scale=canvas`` keeps the target box but pads instead of
  enlarging the image.
"""

from __future__ import annotations

from banatie.delivery.params.formats import (
    DEFAULT_QUALITY,
    ENCODER_MAX_SIDE,
    MIME_TYPES,
    FormatParam,
    OutputFormat,
    format_from_mime,
    negotiate_format,
)
from banatie.delivery.params.geometry import Layout, check_output_size, output_size, plan_layout
from banatie.delivery.params.parse import CONTROL_PARAMS, TRANSFORM_PARAMS, parse_transform
from banatie.delivery.params.spec import RGBA, Mode, Scale, TransformSpec
from banatie.delivery.riapi import ANCHORS, Anchor, TransformError

__all__ = [
    "ANCHORS",
    "CONTROL_PARAMS",
    "DEFAULT_QUALITY",
    "ENCODER_MAX_SIDE",
    "MIME_TYPES",
    "RGBA",
    "TRANSFORM_PARAMS",
    "Anchor",
    "FormatParam",
    "Layout",
    "Mode",
    "OutputFormat",
    "Scale",
    "TransformError",
    "TransformSpec",
    "check_output_size",
    "format_from_mime",
    "negotiate_format",
    "output_size",
    "parse_transform",
    "plan_layout",
]
