"""Edit masks: the region of a take a client's pins ask to change, as a greyscale PNG.

White (255) means "change this", black (0) means "keep this pixel exactly". Each pin is a soft
circle: fully white in its middle, fading to black over the outer :data:`FEATHER` of its radius,
and exactly 0 beyond it, so a renderer that composites through the mask leaves every pixel outside
the pins byte for byte as it was. Pure Pillow and arithmetic: the same pins always give the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from typing import Protocol

from PIL import Image, ImageChops

FEATHER = 0.25
"""The outer part of a pin's radius over which the mask fades from 255 to 0 (a soft edge hides the seam)."""


class PinShape(Protocol):
    """Where a pin is: its centre and radius as fractions of the image (``x``, ``y`` from the top left).

    ``radius`` is a fraction of the image's width, as the catalog's :class:`~studio.catalog.models.Pin` stores it.
    """

    @property
    def x(self) -> float: ...

    @property
    def y(self) -> float: ...

    @property
    def radius(self) -> float: ...


def _level(distance: float, radius: float) -> int:
    """The mask value at ``distance`` pixels from a pin's centre: 255 inside, a linear fade, then 0."""
    if distance >= radius:
        return 0
    inner = radius * (1.0 - FEATHER)
    if distance <= inner:
        return 255
    return max(0, min(255, round(255 * (radius - distance) / (radius - inner))))


def _circle(pin: PinShape, width: int, height: int) -> tuple[tuple[int, int], Image.Image] | None:
    """One pin's soft circle, drawn only over its bounding box; ``None`` when it falls outside the image."""
    cx, cy = pin.x * width, pin.y * height
    # At least one pixel: a pin too small to cover a pixel would ask for a change nobody could see.
    r = max(pin.radius * width, 1.0)
    left, top = max(0, math.floor(cx - r)), max(0, math.floor(cy - r))
    right, bottom = min(width, math.ceil(cx + r)), min(height, math.ceil(cy + r))
    if right <= left or bottom <= top:
        return None
    values = bytearray()
    for row in range(top, bottom):
        dy = row + 0.5 - cy  # distances between pixel centres and the pin's centre
        values.extend(_level(math.hypot(col + 0.5 - cx, dy), r) for col in range(left, right))
    return (left, top), Image.frombytes("L", (right - left, bottom - top), bytes(values))


def pin_mask(pins: Iterable[PinShape], width: int, height: int) -> bytes:
    """A PNG mask (mode ``L``, ``width`` × ``height``) white inside every pin's soft circle.

    Args:
        pins: The pins (``x``, ``y`` and ``radius`` as fractions; see :class:`PinShape`).
        width: The image's width in pixels.
        height: The image's height in pixels.

    Returns:
        PNG bytes: 255 around each pin's centre, a linear fade over the outer :data:`FEATHER` of its
        radius, 0 everywhere else. Overlapping pins keep the larger value. No pins: all 0.

    Raises:
        ValueError: ``width`` or ``height`` is not positive.
    """
    if width < 1 or height < 1:
        raise ValueError(f"a mask needs a positive size (got {width}x{height})")
    mask = Image.new("L", (width, height), 0)
    for pin in pins:
        drawn = _circle(pin, width, height)
        if drawn is None:
            continue
        (left, top), circle = drawn
        box = (left, top, left + circle.width, top + circle.height)
        mask.paste(ImageChops.lighter(mask.crop(box), circle), box)
    out = io.BytesIO()
    mask.save(out, format="PNG")  # Pillow writes no timestamp into a PNG: same pixels, same bytes
    return out.getvalue()
