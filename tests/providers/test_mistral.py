"""MistralRenderer / MistralReviewer against the fake Mistral server: what is Mistral's own.

The error mapping every vendor shares is in test_vendor_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from providers.base import (
    BadImage,
    Renderer,
    RenderRequest,
    Reviewer,
)
from providers.mistral.adapter import MistralRenderer, MistralReviewer
from tests.providers.fakes import FakeMistral, make_png

KEY = "test-key-123"
REQ = RenderRequest(
    prompt="a fox in snow",
    width=1024,
    height=768,
    seed=5,
    init_image=make_png(8, 8),
    params={"completion_args": {"temperature": 0.1}},
)


@pytest.fixture
def fake() -> Iterator[FakeMistral]:
    with FakeMistral() as server:
        yield server


def renderer(fake: FakeMistral, **kwargs: object) -> MistralRenderer:
    return MistralRenderer(KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]  # test keyword arguments of the adapter's own types


async def test_render_success_records_recipe(fake: FakeMistral) -> None:
    r = renderer(fake)
    assert isinstance(r, Renderer)
    result = await r.render(REQ)
    conv = fake.last("conversations")
    assert conv.headers["authorization"] == f"Bearer {KEY}"
    assert fake.last("files").headers["authorization"] == f"Bearer {KEY}"
    assert fake.last("files").headers["accept"] == "application/octet-stream"  # as Mistral's SDK asks
    body = conv.json
    assert body["tools"] == [{"type": "image_generation"}]
    assert body["model"] == "mistral-medium-latest" and body["store"] is False
    assert body["completion_args"] == {"temperature": 0.1}
    assert "a fox in snow" in body["inputs"]
    assert isinstance(body["inputs"], str)  # init_image is deliberately not sent
    assert result.mime_type == "image/png" and result.image.startswith(b"\x89PNG")
    assert result.seed is None and result.reproducible is False
    assert result.model == "mistral-medium-latest"
    assert result.revised_prompt == f"<revised> {body['inputs']}"
    assert "inputs" not in result.params
    assert result.params["tools"] == [{"type": "image_generation"}]
    assert result.params["init_image_ignored"] is True  # the recipe says the sketch played no part


async def test_revised_prompt_kept_raw_when_not_json(fake: FakeMistral) -> None:
    fake.tool_arguments = "a red fox, snowfall, telephoto"
    result = await renderer(fake).render(REQ)
    assert result.revised_prompt == "a red fox, snowfall, telephoto"


async def test_model_override_from_params(fake: FakeMistral) -> None:
    result = await renderer(fake).render(
        RenderRequest(prompt="x", width=64, height=64, params={"model": "mistral-large-latest"})
    )
    assert fake.last("conversations").json["model"] == "mistral-large-latest"
    assert result.model == "mistral-large-latest"
    assert "init_image_ignored" not in result.params


async def test_shared_http_client_is_used(fake: FakeMistral) -> None:
    async with httpx.AsyncClient() as http:
        result = await renderer(fake, http=http).render(REQ)
    assert result.image


async def test_no_tool_call_is_bad_image(fake: FakeMistral) -> None:
    fake.script(["notool"])
    with pytest.raises(BadImage) as info:
        await renderer(fake).render(REQ)
    assert "poem" in (info.value.detail or "")


async def test_review_parses_json(fake: FakeMistral) -> None:
    reviewer = MistralReviewer(KEY, base_url=fake.base_url)
    assert isinstance(reviewer, Reviewer)
    review = await reviewer.review(make_png(64, 48), prompt="a fox", expected_size=(64, 48))
    assert (review.score, review.passed, review.notes) == (0.9, True, "Good match.")
    assert review.model == "pixtral-large-latest"
    body = fake.last("chat").json
    assert body["response_format"] == {"type": "json_object"}
    content = body["messages"][0]["content"]
    assert content[1]["type"] == "image_url" and content[1]["image_url"].startswith("data:image/png;base64,")


async def test_review_tolerates_fences_and_ten_point_scale(fake: FakeMistral) -> None:
    fake.review_answer = {"score": 7, "notes": "ok"}
    review = await MistralReviewer(KEY, base_url=fake.base_url).review(
        make_png(64, 48), prompt="x", expected_size=(64, 48)
    )
    assert review.score == pytest.approx(0.7) and review.passed is True


async def test_review_shrinks_big_images(fake: FakeMistral) -> None:
    await MistralReviewer(KEY, base_url=fake.base_url).review(
        make_png(2048, 1024), prompt="x", expected_size=(2048, 1024)
    )
    import base64
    import io

    from PIL import Image

    uri = fake.last("chat").json["messages"][0]["content"][1]["image_url"]
    with Image.open(io.BytesIO(base64.b64decode(uri.partition(",")[2]))) as im:
        assert im.size == (1024, 512)


def test_fake_file_download_refuses_a_json_accept(fake: FakeMistral) -> None:
    # The fake holds adapters to what the official SDK sends, so a JSON Accept is caught.
    fake.files["f1"] = make_png()
    wrong = httpx.get(fake.url("/v1/files/f1/content"), headers={"Accept": "application/json"}, timeout=5)
    right = httpx.get(fake.url("/v1/files/f1/content"), headers={"Accept": "application/octet-stream"}, timeout=5)
    assert wrong.status_code == 406 and "application/octet-stream" in wrong.json()["message"]
    assert right.status_code == 200 and right.content == fake.files["f1"]
