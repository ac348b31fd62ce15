"""The benchmark's source image: a 1344x768 PNG (a Gemini 16:9 output's size) made from a real
photo, so it compresses and decodes like real output rather than like a flat test card."""

from __future__ import annotations

from pathlib import Path

import pyvips

WIDTH, HEIGHT = 1344, 768


def make_source(path: Path) -> bytes:
    import skimage  # dev dependency (installed by `make bench`)

    photo = pyvips.Image.new_from_file(
        str(Path(skimage.__file__).parent / "data" / "astronaut.png")
    )
    image = photo.resize(WIDTH / photo.width, vscale=HEIGHT / photo.height)
    # A little noise, as a generated image has: keeps PNG from compressing unrealistically well.
    noise = pyvips.Image.gaussnoise(WIDTH, HEIGHT, sigma=3, mean=0)
    image = (image + noise).cast("uchar").copy(interpretation="srgb")
    data = bytes(image.pngsave_buffer(compression=6))
    path.write_bytes(data)
    return data
