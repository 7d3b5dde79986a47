"""Behaviour of the local providers: procedural renderer, Lanczos upscaler, heuristic reviewer."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time

import pytest
from PIL import Image, ImageStat

from providers.base import (
    BadImage,
    InvalidRequest,
    RateLimited,
    Rejected,
    Renderer,
    RenderRequest,
    Reviewer,
    Unavailable,
    Upscaler,
)
from providers.local.adapters import LocalRenderer, LocalReviewer, LocalUpscaler
from providers.local.card import plan_card
from tests.providers.local_images import decode, distance, png, render


def test_local_providers_satisfy_the_protocols() -> None:
    assert isinstance(LocalRenderer(), Renderer)
    assert isinstance(LocalUpscaler(), Upscaler)
    assert isinstance(LocalReviewer(), Reviewer)
    assert LocalRenderer.name == LocalUpscaler.name == LocalReviewer.name == "local"


# --- renderer ---------------------------------------------------------------------------------


async def test_same_inputs_give_identical_bytes() -> None:
    kw = dict(prompt="a neon city at night", negative="fog", seed=42, width=320, height=240)
    first = await LocalRenderer().render(RenderRequest(**kw))  # type: ignore[arg-type]  # test keyword arguments of RenderRequest's field types
    second = await LocalRenderer().render(RenderRequest(**kw))  # type: ignore[arg-type]  # test keyword arguments of RenderRequest's field types
    assert first.image == second.image
    assert first.seed == 42 and first.reproducible
    assert first.mime_type == "image/png" and first.model == "local-procedural-v2"
    assert first.params == {"renderer": "procedural"}


async def test_output_is_png_without_metadata() -> None:
    im = decode(await render())
    assert im.format == "PNG"
    assert im.mode == "RGB"
    assert not im.info  # no timestamps, text chunks or profiles that would break byte equality


@pytest.mark.parametrize("seeds", [(1, 2), (7, 8), (100, 12345)])
async def test_different_seeds_look_different(seeds: tuple[int, int]) -> None:
    a, b = [await render("a cat", seed=s) for s in seeds]
    assert a != b
    assert distance(a, b) > 8  # visibly different, not a few flipped pixels


async def test_different_prompts_look_different() -> None:
    a = await render("a quiet harbour", seed=3)
    b = await render("a burning volcano", seed=3)
    assert distance(a, b) > 8


async def test_negative_prompt_changes_the_image() -> None:
    assert await render("night city", negative="") != await render("night city", negative="night")


async def test_keywords_tint_the_palette() -> None:
    # Averaged over seeds so the test is about the keyword, not one lucky composition.
    def brightness(data: bytes) -> float:
        return ImageStat.Stat(decode(data).convert("L")).mean[0]

    night = [brightness(await render("a night sky", seed=s)) for s in range(5)]
    snow = [brightness(await render("snow fields in winter", seed=s)) for s in range(5)]
    assert max(night) < min(snow)


async def test_missing_seed_is_derived_reported_and_reproducible() -> None:
    renderer = LocalRenderer()
    request = RenderRequest(prompt="a lighthouse on the ocean", width=200, height=100)
    first = await renderer.render(request)
    assert isinstance(first.seed, int)
    assert first.reproducible
    assert (await renderer.render(request)).image == first.image
    explicit = await renderer.render(RenderRequest(prompt=request.prompt, width=200, height=100, seed=first.seed))
    assert explicit.image == first.image
    other = await renderer.render(RenderRequest(prompt="a different prompt", width=200, height=100))
    assert other.seed != first.seed


@pytest.mark.parametrize("size", [(16, 16), (64, 64), (640, 360), (333, 777), (64, 4096), (4096, 64), (4096, 4096)])
async def test_requested_size_is_honoured(size: tuple[int, int]) -> None:
    assert decode(await render(width=size[0], height=size[1])).size == size


@pytest.mark.parametrize("size", [(15, 64), (64, 15), (4097, 64), (0, 0), (-5, 100)])
async def test_invalid_sizes_are_rejected(size: tuple[int, int]) -> None:
    with pytest.raises(InvalidRequest) as info:
        await render(width=size[0], height=size[1])
    assert info.value.provider == "local"


async def test_img2img_strength_controls_distance_from_parent() -> None:
    parent = await render("a forest at dawn", seed=1, width=300, height=200)
    near = await LocalRenderer().render(
        RenderRequest(prompt="a city at night", seed=2, width=300, height=200, init_image=parent, strength=0.5)
    )
    far = await LocalRenderer().render(
        RenderRequest(prompt="a city at night", seed=2, width=300, height=200, init_image=parent, strength=0.85)
    )
    assert distance(near.image, parent) < distance(far.image, parent)
    assert far.params == {"renderer": "procedural", "strength": 0.85}
    again = await LocalRenderer().render(
        RenderRequest(prompt="a city at night", seed=2, width=300, height=200, init_image=parent, strength=0.5)
    )
    assert again.image == near.image


async def test_img2img_resizes_the_init_image() -> None:
    parent = png(Image.new("RGB", (40, 90), (200, 20, 20)))
    out = await render(width=128, height=96, init_image=parent, strength=0.3)
    assert decode(out).size == (128, 96)
    r, g, b = ImageStat.Stat(decode(out)).mean
    assert r > g and r > b  # the red parent still shows through at low strength


async def test_corrupt_init_image_raises_bad_image() -> None:
    with pytest.raises(BadImage):
        await render(init_image=b"\x89PNG\r\n\x1a\nnot really", strength=0.5)


@pytest.mark.parametrize("strength", [0.0, 1.5, -0.1])
async def test_out_of_range_strength_is_rejected(strength: float) -> None:
    parent = await render()
    with pytest.raises(InvalidRequest):
        await render(init_image=parent, strength=strength)


async def test_latency_is_honoured() -> None:
    start = time.perf_counter()
    await render(renderer=LocalRenderer(latency=0.2), width=32, height=32)
    assert time.perf_counter() - start >= 0.19


async def test_rendering_does_not_block_the_event_loop() -> None:
    task = asyncio.create_task(render(width=2048, height=2048))
    ticks = 0
    while not task.done():
        await asyncio.sleep(0.001)
        ticks += 1
    await task
    assert ticks >= 3


@pytest.mark.parametrize(
    ("kind", "error"), [("rejected", Rejected), ("unavailable", Unavailable), ("rate_limited", RateLimited)]
)
async def test_fail_prompts_raise_the_matching_error(kind: str, error: type[Exception]) -> None:
    renderer = LocalRenderer(fail_prompts={"BOOM": kind})
    with pytest.raises(error) as info:
        await render("a BOOM in the sky", renderer=renderer)
    assert info.value.provider == "local"  # type: ignore[attr-defined]  # the raised error is the ProviderError subclass the test asked for
    if kind == "rate_limited":
        assert info.value.retry_after == 1.0  # type: ignore[attr-defined]  # the raised error is the ProviderError subclass the test asked for
    # Prompts without the substring are untouched.
    assert await render("a calm sky", renderer=renderer) == await render("a calm sky")


async def test_fail_prompts_blank_returns_a_flat_image_the_reviewer_flags() -> None:
    renderer = LocalRenderer(fail_prompts={"empty": "blank"})
    image = await render("an empty room", renderer=renderer, width=200, height=150)
    assert decode(image).size == (200, 150)
    assert len(decode(image).getcolors() or []) == 1
    review = await LocalReviewer().review(image, prompt="an empty room", expected_size=(200, 150))
    assert not review.passed


def test_fail_prompts_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        LocalRenderer(fail_prompts={"x": "explode"})


# --- what a frame shows: a storyboard card for its prompt --------------------------------------

LONG_PROMPT = (
    "A lone white lighthouse on a black basalt cliff above a grey sea, late afternoon, wide "
    "establishing shot, gulls circling, cinematic 35mm film still, muted teal and amber palette"
)
# How a prompt's words pick framing and light, and how the caption is laid out: test_local_card.py.


def picture(data: bytes, prompt: str) -> Image.Image:
    """The frame above its caption strip."""
    im = decode(data).convert("RGB")
    return im.crop((0, 0, im.width, im.height - plan_card(prompt, *im.size).strip))


def strip(data: bytes, prompt: str) -> Image.Image:
    """The caption strip at the foot of the frame."""
    im = decode(data).convert("RGB")
    return im.crop((0, im.height - plan_card(prompt, *im.size).strip, im.width, im.height))


def dark_share(im: Image.Image) -> float:
    """Share of pixels much darker than the picture's mean: how much a near silhouette covers."""
    grey = im.convert("L")
    mean = ImageStat.Stat(grey).mean[0]
    return grey.point(lambda v: 255 if v < 0.6 * mean else 0).histogram()[255] / (grey.width * grey.height)


async def test_night_frames_are_darker_than_day_frames_of_the_same_scene() -> None:
    def brightness(data: bytes, prompt: str) -> float:
        return ImageStat.Stat(picture(data, prompt).convert("L")).mean[0]

    lit = {}
    for when in ("at night", "at noon", "at dawn", "at sunset"):
        prompt = f"a quiet harbour with fishing boats {when}"
        lit[when] = [brightness(await render(prompt, seed=s), prompt) for s in range(4)]
    assert max(lit["at night"]) < 0.6 * min(min(v) for k, v in lit.items() if k != "at night")


@pytest.mark.parametrize("subject", ["a fisherman on a beach at noon", "a girl in a garden", "an old sailor"])
async def test_a_close_up_fills_the_frame_where_a_wide_shot_shows_a_small_figure(subject: str) -> None:
    async def coverage(prompt: str) -> float:
        return sum([dark_share(picture(await render(prompt, seed=s), prompt)) for s in range(4)]) / 4

    close, wide = await coverage(f"close-up of {subject}"), await coverage(f"wide shot of {subject}")
    assert close > 2 * wide and close > 0.2


async def test_the_caption_strip_shows_the_prompt_and_only_the_prompt() -> None:
    a, b = "a storm over the harbour", "a picnic in the garden"
    a1, a2, b1 = [strip(await render(p, seed=s), p) for p, s in ((a, 1), (a, 2), (b, 1))]
    assert a1.size == b1.size and a1.height > 0
    assert a1.tobytes() == a2.tobytes()  # the seed changes the picture, never the words
    assert distance(a1, b1) > 2  # other words, other ink
    ink = dark_share(a1)
    assert 0.02 < ink < 0.5  # dark letters on light paper: there is text, and it is not a smudge


def test_same_request_gives_the_same_bytes_in_another_process() -> None:
    # A recipe replays on any worker: nothing may hang on per-process state such as str hashing.
    code = (
        "import asyncio, hashlib; from providers.local.adapters import LocalRenderer; "
        "from providers.base import RenderRequest; "
        "r = asyncio.run(LocalRenderer().render(RenderRequest(prompt=" + repr(LONG_PROMPT) + ", "
        "width=400, height=240, seed=11, negative='text'))); print(hashlib.sha256(r.image).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(n)},
            cwd=os.getcwd(),
        ).stdout.strip()
        for n in (1, 2)
    }
    here = asyncio.run(
        LocalRenderer().render(RenderRequest(prompt=LONG_PROMPT, width=400, height=240, seed=11, negative="text"))
    )
    assert digests == {hashlib.sha256(here.image).hexdigest()}
