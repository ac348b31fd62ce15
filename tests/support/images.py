"""Small images drawn in the tests, and real photos from scikit-image."""

from __future__ import annotations

from pathlib import Path

import pyvips


def solid_png(
    width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    image = (pyvips.Image.black(width, height, bands=3) + list(rgb)).cast("uchar")
    return bytes(image.write_to_buffer(".png"))


def encode(data_png: bytes, suffix: str) -> bytes:
    return bytes(pyvips.Image.new_from_buffer(data_png, "").write_to_buffer(suffix))


def skimage_photo(name: str = "astronaut.png") -> bytes:
    import skimage

    return (Path(skimage.__file__).parent / "data" / name).read_bytes()
