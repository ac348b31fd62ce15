"""The variant cache: where a derived image lives (each missing one is made only once, by
`banatie.concurrency.single_flight`).

A variant of the original at ``{storage_key}`` is stored at ``{storage_key}/v/{hash}``, where the
hash covers everything that decides its bytes and nothing else:

* the canonical transformation (:meth:`TransformSpec.canonical`: parameter order, aliases,
  ``dpr`` and defaults make no new variant) with the *negotiated* output format filled in, so
  ``format=auto`` for a WebP browser and ``format=webp`` share one blob;
* the image's focal point, only when it decides the crop (``mode=crop`` without ``c.gravity`` or
  ``anchor``), so moving the focal point makes new crops and leaves everything else cached;
* the file hash of the watermark image, when ``watermark=@alias`` is used, so pointing the
  alias at a new logo makes new variants;
* :data:`RENDER_VERSION`, bumped when the renderer's output changes.

A PNG original is decoded once, on its first miss, into ``{storage_key}/d/pixels-v1``
(:func:`decoded_key`); every later variant of it starts from those pixels instead of inflating
the PNG again, in this process or any other replica.

Deleting an image deletes the prefix ``{storage_key}/``, variants included. Blob stores write
atomically, so a failed or interrupted transform never leaves half a variant behind.
"""

from __future__ import annotations

import hashlib
from typing import Final

from banatie.delivery.params import TransformSpec

RENDER_VERSION: Final = "1"
VARIANT_DIR: Final = "v"
DECODED_DIR: Final = "d"
DECODED_NAME: Final = "pixels-v1"


def focal_matters(spec: TransformSpec) -> bool:
    return spec.mode == "crop" and spec.gravity is None


def variant_hash(
    spec: TransformSpec, focal: tuple[float, float], watermark_hash: str | None = None
) -> str:
    """``spec`` must carry its output format (:meth:`TransformSpec.with_format`);
    ``watermark_hash`` is the file hash of the image ``watermark=`` resolved to."""
    parts = [RENDER_VERSION, spec.canonical()]
    if focal_matters(spec):
        parts.append(f"focal={focal[0]:.4f},{focal[1]:.4f}")
    if watermark_hash is not None:
        parts.append(f"watermark={watermark_hash}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


def variant_key(storage_key: str, digest: str) -> str:
    return f"{storage_key}/{VARIANT_DIR}/{digest}"


def decoded_key(storage_key: str) -> str:
    """Where the original's decoded pixels live (:func:`banatie.delivery.transform.decode_once`),
    under the same prefix as the variants, so they go when the image goes."""
    return f"{storage_key}/{DECODED_DIR}/{DECODED_NAME}"
