"""Pins drawn on a take's image: where the client put them, numbered, readable on any frame."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from studio.images.pin_marks import NUMBER_COLOUR, PIN_COLOUR, PinMark, draw_pins, marker_radius
from tests.ui.pixels import same_pixels

LIGHT, DARK = (240, 240, 230), (20, 20, 30)


def _image(width: int, height: int, colour: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im


def _rgb(im: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = im.getpixel((x, y))
    assert isinstance(pixel, tuple)  # RGB and RGBA images give one
    return pixel


def _near(pixel: tuple[int, ...], colour: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour[:3], strict=True))


def _marker_share(im: Image.Image, x: float, y: float) -> tuple[float, float]:
    """Of the pixels in the marker's inner square at (x, y): the share in the pin's colour and in white."""
    r = int(marker_radius(*im.size) * 0.6)  # inside the disc, clear of its dark rim
    cx, cy = round(x * im.width), round(y * im.height)
    pixels = [_rgb(im, px, py) for px in range(cx - r, cx + r + 1) for py in range(cy - r, cy + r + 1)]
    colour = sum(1 for p in pixels if _near(p, PIN_COLOUR)) / len(pixels)
    white = sum(1 for p in pixels if _near(p, NUMBER_COLOUR)) / len(pixels)
    return colour, white


@pytest.mark.parametrize("background", [LIGHT, DARK])
def test_each_pin_is_a_numbered_marker_at_its_place(background: tuple[int, int, int]) -> None:
    data = draw_pins(_image(640, 360, background), [PinMark(1, 0.25, 0.5, 0.1), PinMark(2, 0.75, 0.3, 0.1)])
    im = _open(data)
    assert im.format == "PNG" and im.size == (640, 360)
    for x, y in ((0.25, 0.5), (0.75, 0.3)):
        colour, white = _marker_share(im, x, y)
        assert colour > 0.4  # a strong disc, the same on a light or a dark frame
        assert white > 0.05  # with its number written in white
    # Away from every pin the image is untouched.
    assert im.getpixel((320, 340)) == background
    assert im.getpixel((5, 5)) == background


def test_the_region_ring_is_drawn_at_the_pins_radius() -> None:
    im = _open(draw_pins(_image(800, 400, LIGHT), [PinMark(1, 0.5, 0.5, 0.2)]))
    ring = 0.2 * 800  # the radius is a fraction of the width
    along = [_rgb(im, 400 + dx, 200) for dx in range(int(ring - 8), int(ring + 8))]
    assert any(_near(p, PIN_COLOUR, 60) for p in along)
    # Between the marker and the ring the image shows through.
    assert im.getpixel((400 + int(ring / 2), 200)) == LIGHT


def test_a_jpeg_stays_a_jpeg_and_a_width_resizes_keeping_the_aspect() -> None:
    data = draw_pins(_image(1344, 768, DARK, "JPEG"), [PinMark(3, 0.5, 0.5, 0.1)], width=512)
    im = _open(data)
    assert im.format == "JPEG" and im.size == (512, 293)
    colour, _ = _marker_share(im, 0.5, 0.5)
    assert colour > 0.4


def test_markers_grow_with_the_image() -> None:
    assert marker_radius(2048, 1152) > marker_radius(512, 288) > marker_radius(128, 72) > 0


def test_no_pins_leaves_the_image_as_it_was() -> None:
    png = _image(300, 200, LIGHT)
    assert draw_pins(png, []) == png
    jpeg = _image(300, 200, DARK, "JPEG")
    assert draw_pins(jpeg, []) == jpeg
    resized = _open(draw_pins(png, [], width=150))
    assert resized.size == (150, 100) and resized.getpixel((75, 50)) == LIGHT


def test_a_pin_at_the_edge_is_drawn_without_error_and_keeps_the_size() -> None:
    png = _image(300, 200, LIGHT)
    marked = draw_pins(png, [PinMark(1, 0.0, 1.0, 0.5), PinMark(2, 1.0, 0.0, 0.01)])
    assert _open(marked).size == (300, 200)
    assert not same_pixels(marked, png)
