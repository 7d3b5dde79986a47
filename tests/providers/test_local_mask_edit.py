"""The local renderer's mask edits: the new frame shows only inside the mask, the rest is the parent's.

A client pins a part of a take; the next round must change that part and leave every other pixel
as the client approved it.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from providers.base import BadImage, InvalidRequest, RenderRequest
from providers.local.adapters import LocalRenderer
from providers.local.spec import SPEC
from tests.providers.local_images import decode, distance, png, render

W, H = 256, 192
CORE = (108, 76, 148, 116)
"""The fully white middle of the test mask: where the edit must show in full."""


def soft_circle(width: int = W, height: int = H) -> Image.Image:
    """A pin's mask: a white disc with a blurred edge on black, like the studio draws them."""
    mask = Image.new("L", (width, height), 0)
    sx, sy = width / W, height / H
    ImageDraw.Draw(mask).ellipse((72 * sx, 40 * sy, 184 * sx, 152 * sy), fill=255)
    return mask.filter(ImageFilter.GaussianBlur(6 * sx))


def changed_outside(result: bytes, parent: bytes, mask: Image.Image) -> tuple[int, int, int, int] | None:
    """The box around every pixel that differs from the parent where the mask is 0 (None: none)."""
    untouched = mask.point([255 if v == 0 else 0 for v in range(256)])
    diff = ImageChops.difference(decode(result).convert("RGB"), decode(parent).convert("RGB"))
    return Image.composite(diff, Image.new("RGB", diff.size), untouched).getbbox()


@pytest.fixture
async def parent() -> bytes:
    return await render("a forest at dawn", seed=1, width=W, height=H)


def edit(parent: bytes, mask: Image.Image, **changes: object) -> RenderRequest:
    fields: dict[str, object] = {
        "prompt": "a city at night",
        "seed": 2,
        "width": W,
        "height": H,
        "init_image": parent,
        "mask": png(mask),
    }
    return RenderRequest(**(fields | changes))  # type: ignore[arg-type]  # test keyword arguments of RenderRequest's field types


async def test_pixels_outside_the_mask_stay_the_parents_and_inside_they_change(parent: bytes) -> None:
    mask = soft_circle()
    result = await LocalRenderer().render(edit(parent, mask))
    assert changed_outside(result.image, parent, mask) is None
    core = decode(result.image).crop(CORE), decode(parent).crop(CORE)
    assert distance(*core) > 8  # the pinned part is visibly new
    fresh = await render("a city at night", seed=2, width=W, height=H)
    assert decode(result.image).crop(CORE).tobytes() == decode(fresh).crop(CORE).tobytes()  # the new frame, in full
    assert result.params == {"renderer": "procedural", "edit": "mask"} and result.seed == 2
    assert (await LocalRenderer().render(edit(parent, mask))).image == result.image  # a recipe replays


async def test_strength_blends_inside_the_mask_only(parent: bytes) -> None:
    mask = soft_circle()
    full = await LocalRenderer().render(edit(parent, mask))
    light = await LocalRenderer().render(edit(parent, mask, strength=0.3))
    assert changed_outside(light.image, parent, mask) is None
    inside = decode(parent).crop(CORE)
    assert 0 < distance(decode(light.image).crop(CORE), inside) < distance(decode(full.image).crop(CORE), inside)
    assert light.params == {"renderer": "procedural", "strength": 0.3, "edit": "mask"}


async def test_a_mask_of_another_size_is_fitted_to_the_frame(parent: bytes) -> None:
    small = soft_circle(64, 48)
    result = await LocalRenderer().render(edit(parent, small))
    fitted = small.resize((W, H), Image.Resampling.BILINEAR)
    assert decode(result.image).size == (W, H)
    assert changed_outside(result.image, parent, fitted) is None


async def test_a_mask_without_an_init_image_is_refused() -> None:
    request = RenderRequest(prompt="x", width=W, height=H, seed=1, mask=png(soft_circle()))
    with pytest.raises(InvalidRequest) as info:
        await LocalRenderer().render(request)
    assert info.value.provider == "local" and "init image" in str(info.value)


async def test_a_mask_that_does_not_decode_is_a_bad_image(parent: bytes) -> None:
    request = RenderRequest(prompt="x", width=W, height=H, seed=1, init_image=parent, mask=b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(BadImage, match="mask"):
        await LocalRenderer().render(request)


def test_the_table_says_local_edits_inside_a_mask() -> None:
    assert SPEC.mask_edit is True
