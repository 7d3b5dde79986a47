"""Pins drawn on a take's image: a thin ring round the region to change and a numbered marker.

Pure Pillow, so the owner's pages, the client's page and any export draw pins the same way.
Everything is sized from the image, so a pin reads the same on a 256-pixel thumbnail and on the
full-size file, and the marker (white number on a strong colour, dark outline) stays readable on
light and dark images alike.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

PIN_COLOUR = (224, 36, 94, 255)  # a strong crimson: rare in storyboards, loud on light and dark frames
OUTLINE_COLOUR = (17, 17, 17, 255)
HALO = (17, 17, 17, 170)  # the ring's dark edges: a little see-through, so the region stays visible
NUMBER_COLOUR = (255, 255, 255, 255)
JPEG_QUALITY = 88
# Marker radius as a fraction of the image's width, with a floor so a small thumbnail's number
# stays legible, and a cap against the height so a wide, short image is not covered by markers.
MARKER_SHARE, MIN_MARKER, MAX_MARKER_SHARE_OF_HEIGHT = 0.028, 9.0, 0.12
# Drawn this many times larger and shrunk back: PIL's shapes have no anti-aliasing of their own.
MAX_SUPERSAMPLE, SUPERSAMPLE_BUDGET = 4, 2048


@dataclass(frozen=True)
class PinMark:
    """A pin to draw, in fractions of the image (0..1 from the top left).

    Attributes:
        number: The pin's number on its take (what the notes under the image refer to).
        x: Centre, as a fraction of the image's width.
        y: Centre, as a fraction of the image's height.
        radius: Of the region to change, as a fraction of the image's width.
    """

    number: int
    x: float
    y: float
    radius: float


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _open(image: bytes, width: int | None) -> tuple[Image.Image, str]:
    with Image.open(io.BytesIO(image)) as im:
        fmt = "JPEG" if im.format == "JPEG" else "PNG"
        has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
        base = im.convert("RGBA" if has_alpha else "RGB")
    if width is not None and width != base.width:
        if width < 1:
            raise ValueError(f"width must be at least 1 pixel (got {width})")
        height = max(1, round(base.height * width / base.width))
        base = base.resize((width, height), Image.Resampling.LANCZOS)
    return base, fmt


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def marker_radius(width: int, height: int) -> float:
    """The numbered marker's radius in pixels on a ``width`` × ``height`` image."""
    return max(MIN_MARKER, min(width * MARKER_SHARE, height * MAX_MARKER_SHARE_OF_HEIGHT))


def _draw_one(draw: ImageDraw.ImageDraw, pin: PinMark, size: tuple[int, int], scale: int) -> None:
    width, height = size
    cx, cy = pin.x * width * scale, pin.y * height * scale
    marker = marker_radius(width, height) * scale
    line = max(1.0, marker / 7)  # the ring is thin: it shows where, the marker says which
    region = max(pin.radius * width * scale, marker + 2 * line)

    def box(r: float) -> tuple[float, float, float, float]:
        return (cx - r, cy - r, cx + r, cy + r)

    # The ring: the strong colour between two dark hairlines, so it shows on any background.
    # (PIL grows an outline inwards from the radius given, hence the offsets.)
    draw.ellipse(box(region + 2 * line), outline=HALO, width=round(3 * line))
    draw.ellipse(box(region + line), outline=PIN_COLOUR, width=round(line))
    # The marker: a filled disc with a dark rim, its number in white.
    draw.ellipse(box(marker), fill=PIN_COLOUR, outline=OUTLINE_COLOUR, width=round(line))
    digits = str(pin.number)
    font = _font(max(6, round(marker * (1.15 if len(digits) == 1 else 0.95 if len(digits) == 2 else 0.75))))
    # A stroke of the same white thickens the default font's thin strokes into a bold number.
    bold = round(marker / 16)
    draw.text(
        (cx, cy),
        digits,
        fill=NUMBER_COLOUR,
        font=font,
        anchor="mm",
        stroke_width=bold,
        stroke_fill=NUMBER_COLOUR,
    )


def draw_pins(image: bytes, pins: Sequence[PinMark], *, width: int | None = None) -> bytes:
    """The image with its pins drawn on it.

    Args:
        image: Encoded image bytes (any format Pillow reads).
        pins: The pins to draw, in fractions of the image; drawn in order, so a later number
            sits on top where two overlap.
        width: Resize to this many pixels wide first (aspect ratio kept); ``None`` keeps the size.

    Returns:
        JPEG bytes for a JPEG input, PNG bytes otherwise. With no pins and no resize a JPEG or
        PNG comes back as it was given.

    Raises:
        ValueError: ``width`` is below 1.
        PIL.UnidentifiedImageError: ``image`` is not an image.
    """
    if not pins:
        with Image.open(io.BytesIO(image)) as im:  # reads the header only
            if im.format in ("JPEG", "PNG") and width in (None, im.width):
                return image
    base, fmt = _open(image, width)
    if not pins:
        return _encode(base, fmt)
    scale = max(1, min(MAX_SUPERSAMPLE, SUPERSAMPLE_BUDGET // max(base.size)))
    overlay = Image.new("RGBA", (base.width * scale, base.height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for pin in pins:
        _draw_one(draw, pin, base.size, scale)
    if scale > 1:
        overlay = overlay.resize(base.size, Image.Resampling.LANCZOS)
    marked = Image.alpha_composite(base.convert("RGBA"), overlay)
    return _encode(marked if base.mode == "RGBA" else marked.convert("RGB"), fmt)


__all__ = ["PIN_COLOUR", "PinMark", "draw_pins", "marker_radius"]
