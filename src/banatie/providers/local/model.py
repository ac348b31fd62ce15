"""The embedded synthesizer's model: its name, what it offers and accepts. Kept apart from the
painting code (numpy): a server reads these without loading it."""

from __future__ import annotations

from banatie.providers.capabilities import ImageCapabilities, scaled_sizes
from banatie.providers.ports import ASPECT_RATIO_SIZES

MAX_REFERENCE_IMAGES = 3
LOCAL_MODEL = "banatie-local-1"
LOCAL_CAPABILITIES = ImageCapabilities(
    model=LOCAL_MODEL,
    family="local",
    sizes=scaled_sizes(ASPECT_RATIO_SIZES, {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}),
)
