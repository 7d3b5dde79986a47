"""A before/after view: two images of one frame cut at a vertical line, one each side of it.

Composited here rather than in the browser: the ready-made slider components load their script
from a CDN, which a client page on a closed network (or under a strict policy) cannot reach.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

JPEG_QUALITY = 88
# Light with dark edges, so the line shows on any picture.
LINE_COLOUR = (255, 255, 255)
EDGE_COLOUR = (20, 20, 20)


def before_after(before: bytes, after: bytes, split: float) -> bytes:
    """``before`` left of a vertical line at ``split`` of the width, ``after`` right of it.

    Args:
        before: The earlier image (PNG, JPEG or WebP bytes); scaled to ``after``'s size if it differs.
        after: The later image; the result has its size.
        split: Where the line is, from 0 (all ``after``) to 1 (all ``before``); clamped.

    Returns:
        JPEG bytes.
    """
    with Image.open(io.BytesIO(after)) as image:
        right = image.convert("RGB")
    with Image.open(io.BytesIO(before)) as image:
        left = image.convert("RGB")
    if left.size != right.size:
        left = left.resize(right.size, Image.Resampling.LANCZOS)
    width, height = right.size
    x = round(min(1.0, max(0.0, split)) * width)
    view = right.copy()
    view.paste(left.crop((0, 0, x, height)), (0, 0))
    line = max(1, width // 400)
    draw = ImageDraw.Draw(view)
    draw.rectangle((x - line - 1, 0, x + line, height), fill=EDGE_COLOUR)
    draw.rectangle((x - line, 0, x + line - 1, height), fill=LINE_COLOUR)
    out = io.BytesIO()
    view.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
