"""Compare images by what they show, not by their bytes (published files carry metadata)."""

from __future__ import annotations

import io

from PIL import Image


def same_pixels(a: bytes, b: bytes) -> bool:
    """Whether two encoded images have the same size, mode and pixels."""
    with Image.open(io.BytesIO(a)) as one, Image.open(io.BytesIO(b)) as two:
        return one.size == two.size and one.mode == two.mode and one.tobytes() == two.tobytes()
