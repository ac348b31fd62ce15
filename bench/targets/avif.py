"""AVIF for `format=auto`: encoder effort against time and bytes for a 1600 px variant.

In-process, one thread, libvips as Banatie runs it (operation cache off): the variant is cut
from a 2752x1536 PNG (a Gemini 2K 16:9 output's size) once, then encoded at each effort, three
times each (the median counts). WebP at Banatie's effort is the reference a browser without
AVIF gets.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import pyvips

WIDTH = 1600
EFFORTS = (0, 1, 2, 3, 4)


@dataclass
class Encoding:
    label: str
    effort: int
    ms: float
    bytes: int


def _time(encode: pyvips.Image, label: str, effort: int, **options: object) -> Encoding:
    times, size = [], 0
    for _ in range(3):
        began = time.perf_counter()
        if label == "webp":
            data = encode.webpsave_buffer(effort=effort, **options)
        else:
            data = encode.heifsave_buffer(compression="av1", effort=effort, **options)
        times.append((time.perf_counter() - began) * 1000)
        size = len(data)
    return Encoding(label, effort, statistics.median(times), size)


def sweep(png: bytes) -> list[Encoding]:
    pyvips.cache_set_max(0)
    variant = pyvips.Image.thumbnail_buffer(png, WIDTH).copy_memory()
    results = [_time(variant, "webp", 4, Q=82)]
    for effort in EFFORTS:
        results.append(_time(variant, "avif", effort, Q=55, bitdepth=8))
    return results
