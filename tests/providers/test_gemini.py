"""GeminiRenderer / GeminiReviewer against the fake generateContent server."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from providers.base import (
    AuthFailed,
    BadImage,
    ProviderError,
    RateLimited,
    Rejected,
    Renderer,
    RenderRequest,
    Reviewer,
    Unavailable,
)
from providers.gemini.adapter import GeminiRenderer, GeminiReviewer, nearest_aspect
from tests.providers.fakes import FakeGemini, make_png

KEY = "test-key-123"


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def renderer(fake: FakeGemini, **kwargs: object) -> GeminiRenderer:
    return GeminiRenderer(KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]


REQ = RenderRequest(prompt="a lighthouse at dusk", width=1920, height=1080, seed=42, negative="text")


@pytest.mark.parametrize(
    ("size", "ratio"),
    [
        ((1920, 1080), "16:9"),
        ((1024, 1024), "1:1"),
        ((1000, 1500), "2:3"),
        ((2520, 1080), "21:9"),
        ((1080, 1920), "9:16"),
        ((1200, 900), "4:3"),
        ((900, 1200), "3:4"),
        ((1500, 1000), "3:2"),
        ((5000, 1000), "21:9"),
        ((1100, 1000), "1:1"),
    ],
)
def test_nearest_aspect(size: tuple[int, int], ratio: str) -> None:
    assert nearest_aspect(*size) == ratio


def test_nearest_aspect_rejects_zero() -> None:
    with pytest.raises(ValueError):
        nearest_aspect(0, 10)


async def test_render_success_records_recipe(fake: FakeGemini) -> None:
    r = renderer(fake)
    assert isinstance(r, Renderer)
    result = await r.render(REQ)
    sent = fake.last("generate")
    assert sent.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"  # no key in the URL
    assert sent.headers["x-goog-api-key"] == KEY
    body = sent.json
    config = body["generationConfig"]
    assert config["seed"] == 42
    assert config["imageConfig"] == {"aspectRatio": "16:9"}
    assert config["responseModalities"] == ["TEXT", "IMAGE"]
    assert body["contents"][0]["parts"][0]["text"] == "a lighthouse at dusk\nAvoid: text"
    assert result.mime_type == "image/png" and result.image.startswith(b"\x89PNG")
    assert result.seed == 42 and result.reproducible is False
    assert result.model == "gemini-2.5-flash-image"
    assert result.params["generationConfig"]["seed"] == 42
    assert result.job_id is None


async def test_init_image_goes_in_as_inline_data(fake: FakeGemini) -> None:
    sketch = make_png(16, 16)
    await renderer(fake).render(RenderRequest(prompt="ink it", width=512, height=512, init_image=sketch))
    parts = fake.last("generate").json["contents"][0]["parts"]
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    assert base64.b64decode(parts[1]["inlineData"]["data"]) == sketch
    assert "seed" not in fake.last("generate").json["generationConfig"]


async def test_429_uses_retry_info(fake: FakeGemini) -> None:
    fake.script(["429:22"])
    with pytest.raises(RateLimited) as info:
        await renderer(fake).render(REQ)
    assert info.value.retry_after == 22.0 and info.value.status_code == 429
    assert KEY not in str(info.value)


async def test_500_is_unavailable(fake: FakeGemini) -> None:
    fake.script(["500"])
    with pytest.raises(Unavailable):
        await renderer(fake).render(REQ)


async def test_timeout_is_unavailable(fake: FakeGemini) -> None:
    fake.script(["slow:3"])
    with pytest.raises(Unavailable) as info:
        await renderer(fake, timeout=0.3).render(REQ)
    assert "timed out" in str(info.value)


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ("block", "SAFETY"),
        ("block:PROHIBITED_CONTENT", "PROHIBITED_CONTENT"),
        ("finish:IMAGE_SAFETY", "IMAGE_SAFETY"),
        ("finish:IMAGE_PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT"),
        ("finish:SAFETY", "SAFETY"),
        ("finish:PROHIBITED_CONTENT", "PROHIBITED_CONTENT"),
        ("finish:BLOCKLIST", "BLOCKLIST"),
        ("finish:SPII", "SPII"),
        ("finish:RECITATION", "RECITATION"),
        ("finish:IMAGE_RECITATION", "IMAGE_RECITATION"),
    ],
)
async def test_safety_is_rejected(fake: FakeGemini, step: str, reason: str) -> None:
    fake.script([step])
    with pytest.raises(Rejected) as info:
        await renderer(fake).render(REQ)
    assert info.value.detail == reason


@pytest.mark.parametrize("step", ["noimage", "badimage"])
async def test_no_usable_image_is_bad_image(fake: FakeGemini, step: str) -> None:
    fake.script([step])
    with pytest.raises(BadImage):
        await renderer(fake).render(REQ)


@pytest.mark.parametrize("reason", ["NO_IMAGE", "IMAGE_OTHER", "MAX_TOKENS", "OTHER"])
async def test_no_image_without_a_safety_reason_is_a_failed_attempt(fake: FakeGemini, reason: str) -> None:
    # Not a refusal: the take may try Gemini again instead of giving the vendor up for good.
    fake.script([f"finish:{reason}", "ok"])
    with pytest.raises(BadImage) as info:
        await renderer(fake).render(REQ)
    assert not isinstance(info.value, Rejected) and reason in (info.value.detail or "")
    assert (await renderer(fake).render(REQ)).image  # and the retry renders


async def test_bad_key_is_auth_failed_and_never_echoed(fake: FakeGemini) -> None:
    fake.script(["badkey"])
    with pytest.raises(AuthFailed) as info:
        await renderer(fake).render(REQ)
    assert KEY not in str(info.value) and KEY not in (info.value.detail or "")


async def test_key_never_in_error_messages(fake: FakeGemini) -> None:
    steps = ["429:1", "500", "403", "block", "finish:SAFETY", "noimage", "badimage", "badkey"]
    fake.script(steps)
    seen = []
    for _ in steps:
        with pytest.raises(ProviderError) as info:
            await renderer(fake).render(REQ)
        seen.append(info.value)
    assert all(KEY not in str(e) and KEY not in repr(e) for e in seen)
    assert KEY not in repr(renderer(fake))


async def test_review_parses_json(fake: FakeGemini) -> None:
    reviewer = GeminiReviewer(KEY, base_url=fake.base_url)
    assert isinstance(reviewer, Reviewer)
    review = await reviewer.review(make_png(64, 48), prompt="a lighthouse", expected_size=(64, 48))
    assert (review.score, review.passed, review.notes) == (0.82, True, "Matches the shot.")
    assert review.model == "gemini-2.5-flash"
    config = fake.last("generate").json["generationConfig"]
    assert config["responseMimeType"] == "application/json"


async def test_review_wrong_size_fails_whatever_the_vendor_says(fake: FakeGemini) -> None:
    reviewer = GeminiReviewer(KEY, base_url=fake.base_url)
    review = await reviewer.review(make_png(64, 48), prompt="x", expected_size=(128, 96))
    assert review.passed is False and "wrong size: 64x48, expected 128x96" in review.notes


async def test_review_malformed_json_is_unavailable(fake: FakeGemini) -> None:
    fake.script(["badjson"], op="review")
    with pytest.raises(Unavailable) as info:
        await GeminiReviewer(KEY, base_url=fake.base_url).review(make_png(), prompt="x", expected_size=(64, 48))
    assert info.value.detail == "unparseable review"


async def test_review_of_undecodable_image_sends_nothing(fake: FakeGemini) -> None:
    with pytest.raises(BadImage):
        await GeminiReviewer(KEY, base_url=fake.base_url).review(b"junk", prompt="x", expected_size=(1, 1))
    assert fake.count() == 0
