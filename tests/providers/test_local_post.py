"""Behaviour of the local post-processing providers: the Lanczos upscaler and the heuristic reviewer."""

from __future__ import annotations

import pytest
from PIL import Image

from providers.base import (
    BadImage,
    InvalidRequest,
)
from providers.local.adapters import LocalReviewer, LocalUpscaler
from providers.local.card import plan_card
from tests.providers.local_images import decode, distance, png, render

# --- upscaler ---------------------------------------------------------------------------------


async def test_upscale_doubles_dimensions() -> None:
    source = await render(width=120, height=80)
    result = await LocalUpscaler().upscale(source, factor=2)
    assert decode(result.image).size == (240, 160)
    assert result.mime_type == "image/png"
    assert result.model == "local-lanczos-unsharp" and result.params == {"factor": 2}
    # Still the same picture: compare against a plain resize.
    plain = decode(source).resize((240, 160), Image.Resampling.BICUBIC)
    assert distance(result.image, plain) < 6


async def test_upscale_factor_one_keeps_size() -> None:
    source = await render(width=120, height=80)
    assert decode((await LocalUpscaler().upscale(source, factor=1)).image).size == (120, 80)


async def test_upscale_handles_palette_and_alpha_images() -> None:
    pal = png(Image.new("RGB", (20, 10), (10, 200, 30)).convert("P"))
    rgba = png(Image.new("RGBA", (20, 10), (10, 200, 30, 128)))
    assert decode((await LocalUpscaler().upscale(pal, factor=3)).image).size == (60, 30)
    out = decode((await LocalUpscaler().upscale(rgba, factor=2)).image)
    assert out.mode == "RGBA" and out.size == (40, 20)


@pytest.mark.parametrize("data", [b"", b"garbage bytes", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
async def test_upscale_rejects_undecodable_input(data: bytes) -> None:
    with pytest.raises(BadImage):
        await LocalUpscaler().upscale(data, factor=2)


@pytest.mark.parametrize("factor", [0, 9, -1])
async def test_upscale_rejects_bad_factor(factor: int) -> None:
    with pytest.raises(InvalidRequest):
        await LocalUpscaler().upscale(await render(width=32, height=32), factor=factor)


# --- reviewer ---------------------------------------------------------------------------------


async def test_reviewer_passes_a_normal_render() -> None:
    image = await render(width=256, height=192)
    review = await LocalReviewer().review(image, prompt="mountains at sunset", expected_size=(256, 192))
    assert review.passed
    assert 0.5 <= review.score <= 1.0
    assert review.model == "local-heuristics-v1"
    assert review == await LocalReviewer().review(image, prompt="x", expected_size=(256, 192))


async def test_reviewer_scores_differ_between_images() -> None:
    reviewer = LocalReviewer()
    scores = {
        (await reviewer.review(await render(seed=s), prompt="p", expected_size=(256, 192))).score for s in range(6)
    }
    assert len(scores) > 1


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (90, 140, 200)])
async def test_reviewer_fails_a_flat_image(colour: tuple[int, int, int]) -> None:
    image = png(Image.new("RGB", (256, 192), colour))
    review = await LocalReviewer().review(image, prompt="p", expected_size=(256, 192))
    assert not review.passed
    assert "flat" in review.notes


async def test_reviewer_fails_a_mostly_flat_image() -> None:
    im = Image.new("RGB", (200, 200), (30, 30, 30))
    im.paste((250, 250, 250), (0, 0, 20, 20))  # 1% detail is not a picture
    review = await LocalReviewer().review(png(im), prompt="p", expected_size=(200, 200))
    assert not review.passed


async def test_reviewer_judges_a_previews_picture_not_its_caption() -> None:
    prompt = "mountains at sunset, wide shot"
    frame = decode(await render(prompt, width=320, height=240)).convert("RGB")
    picture_rows = frame.height - plan_card(prompt, 320, 240).strip
    frame.paste((90, 120, 160), (0, 0, 320, picture_rows))  # the picture goes blank, the words stay
    review = await LocalReviewer().review(png(frame), prompt=prompt, expected_size=(320, 240))
    assert not review.passed and "flat" in review.notes
    # The same card around a real picture passes, and the score tells variants apart.
    scores = {
        (
            await LocalReviewer().review(
                await render(prompt, seed=s, width=320, height=240), prompt=prompt, expected_size=(320, 240)
            )
        ).score
        for s in range(4)
    }
    assert len(scores) > 1 and all(0.5 <= x < 1.0 for x in scores)


async def test_reviewer_fails_a_wrong_size_image() -> None:
    image = await render(width=256, height=192)
    review = await LocalReviewer().review(image, prompt="p", expected_size=(512, 384))
    assert not review.passed
    assert review.notes == "size 256x192, expected 512x384"


@pytest.mark.parametrize("data", [b"", b"definitely not an image"])
async def test_reviewer_scores_garbage_zero(data: bytes) -> None:
    review = await LocalReviewer().review(data, prompt="p", expected_size=(10, 10))
    assert review.score == 0.0 and not review.passed
    assert review.notes == "undecodable image"
