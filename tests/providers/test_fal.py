"""FalRenderer (text- and image-to-image) against the fake fal queue (the upscaler: test_upscalers.py).

The error mapping every vendor shares is in test_vendor_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import fal_client.client
import pytest

from providers.base import (
    BadImage,
    InvalidRequest,
    RateLimited,
    Rejected,
    Renderer,
    RenderRequest,
    Unavailable,
)
from providers.fal.flux import DEFAULT_IMG2IMG_STRENGTH, FalRenderer
from tests.providers.fake_fal import DEFAULT_SEED
from tests.providers.fakes import FakeFal, image_size, make_png

KEY = "test-key-123"
REQ = RenderRequest(prompt="a paper boat", width=96, height=64)


@pytest.fixture(autouse=True)
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    # fal_client retries 408/409/429 and transport errors itself, up to MAX_ATTEMPTS (10) with
    # backoff; one attempt makes errors surface at once.
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 1)


@pytest.fixture
def fake() -> Iterator[FakeFal]:
    with FakeFal() as server:
        yield server


def renderer(fake: FakeFal, **kwargs: object) -> FalRenderer:
    kwargs.setdefault("poll_interval", 0.01)
    return FalRenderer(KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]  # test keyword arguments of the adapter's own types


async def test_render_success_records_returned_seed(fake: FakeFal) -> None:
    default_queue = fal_client.client.QUEUE_URL_FORMAT
    seen: list[tuple[str, int]] = []

    async def on_job(job_id: str) -> None:
        seen.append((job_id, fake.count("status")))  # before any status poll

    r = renderer(fake)
    assert isinstance(r, Renderer)
    result = await r.render(REQ, on_job=on_job)
    submit = fake.last("submit")
    assert submit.path == "/fal-ai/flux/schnell"
    assert submit.headers["authorization"] == f"Key {KEY}"
    args = submit.json
    assert args["image_size"] == {"width": 96, "height": 64}
    assert args["enable_safety_checker"] is True and "seed" not in args
    assert seen == [(result.job_id, 0)]
    assert fake.count("status") == 3 and fake.count("result") == 1
    assert result.seed == DEFAULT_SEED and result.reproducible is True
    assert result.model == "fal-ai/flux/schnell" and result.params == args
    assert image_size(result.image) == (96, 64) and result.mime_type == "image/png"
    assert default_queue == fal_client.client.QUEUE_URL_FORMAT  # restored after the call


async def test_seed_sent_is_seed_recorded(fake: FakeFal) -> None:
    result = await renderer(fake).render(RenderRequest(prompt="x", width=32, height=32, seed=77))
    assert fake.last("submit").json["seed"] == 77 and result.seed == 77


async def test_resume_uses_handle_without_submitting(fake: FakeFal) -> None:
    rid = fake.add_request(queued=2)
    result = await renderer(fake).render(RenderRequest(prompt="resumed", width=64, height=48, job_id=rid))
    assert fake.count("submit") == 0
    assert fake.count("status") == 3 and result.job_id == rid
    assert fake.last("status").path.startswith(f"/fal-ai/flux/requests/{rid}/status")


async def test_client_retries_429_itself_when_allowed(fake: FakeFal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 3)
    fake.script(["429", "ok"])
    result = await renderer(fake).render(REQ)
    assert fake.count("submit") == 2 and result.image


async def test_max_wait_gives_up(fake: FakeFal) -> None:
    fake.script(["queued:1000"])
    with pytest.raises(Unavailable) as info:
        await renderer(fake, max_wait=0.1).render(REQ)
    assert "not finished" in (info.value.detail or "")


async def test_failed_result_is_mapped(fake: FakeFal) -> None:
    fake.script(["fail:422", "fail:503"])
    with pytest.raises(InvalidRequest):
        await renderer(fake).render(REQ)
    with pytest.raises(Unavailable):
        await renderer(fake).render(REQ)


async def test_url_output_downloaded_without_key(fake: FakeFal) -> None:
    fake.output_mode = "url"
    result = await renderer(fake).render(REQ)
    assert "authorization" not in fake.last("download").headers
    assert image_size(result.image) == (96, 64)


async def test_concurrent_renders_share_the_queue_root(fake: FakeFal) -> None:
    import asyncio

    default_queue = fal_client.client.QUEUE_URL_FORMAT
    r = renderer(fake)
    results = await asyncio.gather(*(r.render(REQ) for _ in range(3)))
    assert len({res.job_id for res in results}) == 3 and fake.count("submit") == 3
    assert default_queue == fal_client.client.QUEUE_URL_FORMAT


async def test_overlapping_different_base_urls_refuse(fake: FakeFal) -> None:
    import asyncio

    fake.script(["queued:20"])
    with FakeFal() as other:
        slow = asyncio.ensure_future(renderer(fake).render(REQ))
        while fake.count("submit") == 0:
            await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError):
            await renderer(other).render(REQ)
        assert (await slow).image
    assert other.count() == 0


# -- image-to-image -----------------------------------------------------------------------------
SKETCH = make_png(40, 30)


async def test_init_image_goes_to_the_image_to_image_endpoint(fake: FakeFal) -> None:
    req = RenderRequest(prompt="the same boat at dusk", width=96, height=64, seed=5, init_image=SKETCH, strength=0.55)
    result = await renderer(fake).render(req)
    submit = fake.last("submit")
    assert submit.path == "/fal-ai/flux/dev/image-to-image"
    args = submit.json
    assert args["image_url"].startswith("data:image/png;base64,") and args["strength"] == 0.55
    assert args["prompt"] == "the same boat at dusk" and args["seed"] == 5
    assert "image_size" not in args  # the endpoint keeps the input image's size
    assert image_size(result.image) == (40, 30)
    assert result.model == "fal-ai/flux/dev/image-to-image" and result.seed == 5
    assert result.params["model"] == "fal-ai/flux/dev/image-to-image"
    assert result.params["strength"] == 0.55 and result.params["image_url"].startswith("<data URI")


async def test_init_image_without_strength_records_the_default(fake: FakeFal) -> None:
    result = await renderer(fake).render(RenderRequest(prompt="x", width=8, height=8, init_image=SKETCH))
    assert fake.last("submit").json["strength"] == DEFAULT_IMG2IMG_STRENGTH
    assert result.params["strength"] == DEFAULT_IMG2IMG_STRENGTH


async def test_replayed_recipe_sends_the_image_not_its_marker(fake: FakeFal) -> None:
    first = await renderer(fake).render(RenderRequest(prompt="x", width=8, height=8, init_image=SKETCH, strength=0.4))
    again = RenderRequest(prompt="x", width=8, height=8, init_image=SKETCH, params=first.params)
    await renderer(fake).render(again)
    args = fake.last("submit").json
    assert fake.last("submit").path == "/fal-ai/flux/dev/image-to-image"
    assert args["image_url"].startswith("data:image/png;base64,") and args["strength"] == 0.4
    assert "model" not in args


async def test_img2img_endpoint_is_configurable(fake: FakeFal) -> None:
    req = RenderRequest(prompt="x", width=8, height=8, init_image=SKETCH, strength=0.3)
    await renderer(fake, img2img_model="fal-ai/flux-lora/image-to-image").render(req)
    assert fake.last("submit").path == "/fal-ai/flux-lora/image-to-image"


async def test_text_to_image_sends_no_image_fields(fake: FakeFal) -> None:
    result = await renderer(fake).render(REQ)
    args = fake.last("submit").json
    assert "image_url" not in args and "strength" not in args and "model" not in result.params
    assert fake.last("submit").path == "/fal-ai/flux/schnell"


async def test_undecodable_init_image_is_invalid_and_sends_nothing(fake: FakeFal) -> None:
    req = RenderRequest(prompt="x", width=8, height=8, init_image=b"not an image", strength=0.5)
    with pytest.raises(InvalidRequest):
        await renderer(fake).render(req)
    assert fake.count() == 0


@pytest.mark.parametrize(
    ("step", "cls"),
    [
        ("429:4", RateLimited),
        ("500", Unavailable),
        ("nsfw", Rejected),
        ("badimage", BadImage),
    ],
)
async def test_img2img_errors_are_mapped_like_text_to_image(fake: FakeFal, step: str, cls: type) -> None:
    fake.script([step])
    req = RenderRequest(prompt="x", width=8, height=8, init_image=SKETCH, strength=0.5)
    with pytest.raises(cls) as info:
        await renderer(fake).render(req)
    if cls is RateLimited:
        assert info.value.retry_after == 4.0


async def test_img2img_resume_polls_without_submitting(fake: FakeFal) -> None:
    rid = fake.add_request(endpoint="fal-ai/flux/dev/image-to-image", queued=2)
    req = RenderRequest(prompt="resumed", width=8, height=8, init_image=SKETCH, strength=0.5, job_id=rid)
    result = await renderer(fake).render(req)
    assert fake.count("submit") == 0 and result.job_id == rid
