"""GeminiRenderer / GeminiReviewer against the fake generateContent server: what is Gemini's own.

The error mapping every vendor shares is in test_vendor_contract.py.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from providers.base import (
    AuthFailed,
    BadImage,
    Rejected,
    Renderer,
    RenderRequest,
    Reviewer,
)
from providers.gemini.adapter import GeminiRenderer, GeminiReviewer, nearest_aspect
from tests.providers.fakes import FakeGemini, make_png

KEY = "test-key-123"


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def renderer(fake: FakeGemini, **kwargs: object) -> GeminiRenderer:
    return GeminiRenderer(KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]  # test keyword arguments of the adapter's own types


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


async def test_an_answer_without_an_image_is_bad_image(fake: FakeGemini) -> None:
    # Undecodable bytes are the vendor contract's (test_vendor_contract.py); no image part at all is Gemini's own.
    fake.script(["noimage"])
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


async def test_review_parses_json(fake: FakeGemini) -> None:
    reviewer = GeminiReviewer(KEY, base_url=fake.base_url)
    assert isinstance(reviewer, Reviewer)
    review = await reviewer.review(make_png(64, 48), prompt="a lighthouse", expected_size=(64, 48))
    assert (review.score, review.passed, review.notes) == (0.82, True, "Matches the shot.")
    assert review.model == "gemini-2.5-flash"
    config = fake.last("generate").json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
