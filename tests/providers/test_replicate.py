"""ReplicateRenderer against the fake predictions API (the upscaler: test_upscalers.py).

The error mapping every vendor shares is in test_vendor_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from providers.base import (
    InvalidRequest,
    RateLimited,
    Renderer,
    RenderRequest,
    Unavailable,
)
from providers.replicate.flux import ReplicateRenderer
from tests.providers.fakes import FakeReplicate, image_size, make_png

KEY = "test-key-123"
REQ = RenderRequest(prompt="a koi pond", width=1920, height=1080, seed=1234)


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        yield server


def renderer(fake: FakeReplicate, **kwargs: object) -> ReplicateRenderer:
    kwargs.setdefault("poll_interval", 0.01)
    return ReplicateRenderer(KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]  # test keyword arguments of the adapter's own types


async def test_render_success_records_recipe(fake: FakeReplicate) -> None:
    seen: list[tuple[str, int, str]] = []

    async def on_job(job_id: str) -> None:
        # Awaited before any poll: the prediction is still starting.
        seen.append((job_id, fake.count("get"), fake.predictions[job_id].final))

    r = renderer(fake)
    assert isinstance(r, Renderer)
    result = await r.render(REQ, on_job=on_job)
    create = fake.last("create")
    assert create.path == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert create.headers["authorization"] == f"Bearer {KEY}"
    sent = create.json["input"]
    assert sent["go_fast"] is False and sent["seed"] == 1234
    assert sent["aspect_ratio"] == "16:9" and sent["prompt"] == "a koi pond"
    assert seen == [(result.job_id, 0, "succeeded")]
    assert fake.count("get") == 2  # one "processing" poll, then "succeeded"
    assert result.model == "black-forest-labs/flux-schnell:fakeversion0001"
    assert result.seed == 1234 and result.reproducible is True
    assert result.params == sent
    assert result.mime_type == "image/png" and image_size(result.image) == fake.image_size


async def test_seed_read_from_logs_when_not_sent(fake: FakeReplicate) -> None:
    result = await renderer(fake).render(RenderRequest(prompt="x", width=512, height=512))
    assert "seed" not in fake.last("create").json["input"]
    assert result.seed == 4242 and result.reproducible is True


async def test_resume_polls_without_creating(fake: FakeReplicate) -> None:
    pid = fake.add_prediction(status="processing", polls=3)
    calls: list[str] = []

    async def on_job(job_id: str) -> None:
        calls.append(job_id)

    result = await renderer(fake).render(RenderRequest(prompt="x", width=1, height=1, job_id=pid), on_job=on_job)
    assert fake.count("create") == 0
    assert fake.count("get") == 4
    assert result.job_id == pid and result.seed == 7
    assert result.params["go_fast"] is False
    assert calls == []  # the caller already holds the id


async def test_resume_of_unknown_prediction_is_invalid(fake: FakeReplicate) -> None:
    with pytest.raises(InvalidRequest):
        await renderer(fake).render(RenderRequest(prompt="x", width=1, height=1, job_id="nope"))
    assert fake.count("create") == 0


async def test_long_processing_then_success(fake: FakeReplicate) -> None:
    fake.script(["processing:5"])
    result = await renderer(fake).render(REQ)
    assert fake.count("get") == 6 and result.image


async def test_max_wait_gives_up_but_keeps_the_job(fake: FakeReplicate) -> None:
    fake.script(["processing:1000"])
    ids: list[str] = []

    async def on_job(job_id: str) -> None:
        ids.append(job_id)

    with pytest.raises(Unavailable) as info:
        await renderer(fake, max_wait=0.1).render(REQ, on_job=on_job)
    assert ids and ids[0] in (info.value.detail or "")


@pytest.mark.parametrize(
    ("step", "cls"),
    [
        ("failed", Unavailable),
        ("failed:invalid aspect ratio 7:3", InvalidRequest),
        ("aborted", Unavailable),
        ("canceled", Unavailable),
    ],
)
async def test_terminal_failures(fake: FakeReplicate, step: str, cls: type) -> None:
    fake.script([step])
    with pytest.raises(cls) as info:
        await renderer(fake).render(REQ)
    if step == "aborted":
        assert info.value.detail == "status aborted"


async def test_single_string_output(fake: FakeReplicate) -> None:
    result = await renderer(fake, model="black-forest-labs/flux-1.1-pro").render(REQ)
    assert isinstance(fake.predictions[result.job_id].output, str)  # type: ignore[index]  # the fake keeps every prediction it made
    assert result.model.startswith("black-forest-labs/flux-1.1-pro:")


async def test_url_output_downloaded_without_token(fake: FakeReplicate) -> None:
    fake.output_mode = "url"
    result = await renderer(fake).render(REQ)
    download = fake.last("download")
    assert "authorization" not in download.headers
    assert result.image.startswith(b"\x89PNG")


async def test_img2img_only_on_models_that_take_it(fake: FakeReplicate) -> None:
    req = RenderRequest(prompt="vary", width=512, height=512, init_image=make_png(16, 16), strength=0.6)
    await renderer(fake).render(req)
    assert "image" not in fake.last("create").json["input"]
    result = await renderer(fake, model="black-forest-labs/flux-dev").render(req)
    sent = fake.last("create").json["input"]
    assert sent["image"].startswith("data:image/png;base64,") and sent["prompt_strength"] == 0.6
    assert result.params["image"].startswith("<data URI")


async def test_large_init_image_is_uploaded(fake: FakeReplicate) -> None:
    req = RenderRequest(prompt="vary", width=512, height=512, init_image=make_png(16, 16), strength=0.5)
    await renderer(fake, model="black-forest-labs/flux-dev", inline_limit=10).render(req)
    assert fake.count("upload") == 1
    assert fake.last("create").json["input"]["image"].startswith(fake.base_url + "/files/")


async def test_concurrent_429s_keep_their_own_retry_after(fake: FakeReplicate) -> None:
    import asyncio

    fake.script(["429:3", "429:9"])
    r = renderer(fake)
    results = await asyncio.gather(r.render(REQ), r.render(REQ), return_exceptions=True)
    assert all(isinstance(e, RateLimited) for e in results)
    assert sorted(e.retry_after for e in results) == [3.0, 9.0]  # type: ignore[union-attr]  # every result is a RateLimited here
