"""FalRenderer / FalUpscaler against the fake fal queue."""

from __future__ import annotations

from collections.abc import Iterator

import fal_client.client
import pytest

from providers.base import (
    AuthFailed,
    BadImage,
    InvalidRequest,
    ProviderError,
    RateLimited,
    Rejected,
    RenderRequest,
    Renderer,
    Unavailable,
    Upscaler,
)
from providers.fal_flux import FalRenderer, FalUpscaler
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
    return FalRenderer(KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]


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
    assert fal_client.client.QUEUE_URL_FORMAT == default_queue  # restored after the call


async def test_seed_sent_is_seed_recorded(fake: FakeFal) -> None:
    result = await renderer(fake).render(RenderRequest(prompt="x", width=32, height=32, seed=77))
    assert fake.last("submit").json["seed"] == 77 and result.seed == 77


async def test_resume_uses_handle_without_submitting(fake: FakeFal) -> None:
    rid = fake.add_request(queued=2)
    result = await renderer(fake).render(RenderRequest(prompt="resumed", width=64, height=48, job_id=rid))
    assert fake.count("submit") == 0
    assert fake.count("status") == 3 and result.job_id == rid
    assert fake.last("status").path.startswith(f"/fal-ai/flux/requests/{rid}/status")


async def test_429_carries_retry_after(fake: FakeFal) -> None:
    fake.script(["429:3"])
    with pytest.raises(RateLimited) as info:
        await renderer(fake).render(REQ)
    assert info.value.retry_after == 3.0 and fake.count("submit") == 1


async def test_client_retries_429_itself_when_allowed(fake: FakeFal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 3)
    fake.script(["429", "ok"])
    result = await renderer(fake).render(REQ)
    assert fake.count("submit") == 2 and result.image


async def test_500_is_unavailable(fake: FakeFal) -> None:
    fake.script(["500"])
    with pytest.raises(Unavailable):
        await renderer(fake).render(REQ)


async def test_timeout_is_unavailable(fake: FakeFal) -> None:
    fake.script(["slow:3"])
    with pytest.raises(Unavailable):
        await renderer(fake, timeout=0.3).render(REQ)


async def test_max_wait_gives_up(fake: FakeFal) -> None:
    fake.script(["queued:1000"])
    with pytest.raises(Unavailable) as info:
        await renderer(fake, max_wait=0.1).render(REQ)
    assert "not finished" in (info.value.detail or "")


async def test_nsfw_is_rejected(fake: FakeFal) -> None:
    fake.script(["nsfw"])
    with pytest.raises(Rejected):
        await renderer(fake).render(REQ)


async def test_bad_bytes_are_bad_image(fake: FakeFal) -> None:
    fake.script(["badimage"])
    with pytest.raises(BadImage):
        await renderer(fake).render(REQ)


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


async def test_wrong_key_is_auth_failed_without_echo() -> None:
    with FakeFal(key="the-right-key-456") as fake:
        with pytest.raises(AuthFailed) as info:
            await renderer(fake).render(REQ)
    assert KEY not in str(info.value)


async def test_key_never_in_error_messages(fake: FakeFal) -> None:
    steps = ["429:1", "500", "401", "422", "nsfw", "badimage", "fail:500"]
    fake.script(steps)
    for _ in steps:
        with pytest.raises(ProviderError) as info:
            await renderer(fake).render(REQ)
        assert KEY not in str(info.value) and KEY not in repr(info.value)


async def test_upscaler(fake: FakeFal) -> None:
    ids: list[str] = []

    async def on_job(job_id: str) -> None:
        ids.append(job_id)

    up = FalUpscaler(KEY, base_url=fake.base_url, poll_interval=0.01)
    assert isinstance(up, Upscaler)
    result = await up.upscale(make_png(20, 10), factor=4, on_job=on_job)
    submit = fake.last("submit")
    assert submit.path == "/fal-ai/esrgan"
    assert submit.json["scale"] == 4 and submit.json["image_url"].startswith("data:image/png;base64,")
    assert image_size(result.image) == (80, 40) and ids
    assert result.params["image_url"].startswith("<data URI")


async def test_concurrent_renders_share_the_queue_root(fake: FakeFal) -> None:
    import asyncio

    default_queue = fal_client.client.QUEUE_URL_FORMAT
    r = renderer(fake)
    results = await asyncio.gather(*(r.render(REQ) for _ in range(3)))
    assert len({res.job_id for res in results}) == 3 and fake.count("submit") == 3
    assert fal_client.client.QUEUE_URL_FORMAT == default_queue


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
