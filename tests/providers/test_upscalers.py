"""ReplicateUpscaler (Real-ESRGAN) and FalUpscaler (ESRGAN, Clarity) against the fake vendors.

The behaviours both must share (success at the upscaled size, and the error mapping) run once
per vendor through the ``vendor`` fixture; vendor-specific wire details follow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fal_client.client
import pytest

from providers._http.errors import to_data_uri
from providers.base import (
    AuthFailed,
    BadImage,
    InvalidRequest,
    ProviderError,
    RateLimited,
    Unavailable,
    Upscaler,
)
from providers.fal.upscale import CLARITY, FalUpscaler
from providers.replicate.upscale import DEFAULT_ESRGAN_VERSION, ReplicateUpscaler
from tests.providers.fake_base import FakeServer
from tests.providers.fakes import FakeFal, FakeReplicate, image_size, make_png

KEY = "test-key-123"
SOURCE = make_png(20, 10)


@pytest.fixture(autouse=True)
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    # fal_client retries 429/5xx/timeouts itself up to MAX_ATTEMPTS (10) with backoff.
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 1)


@dataclass
class Vendor:
    """A fake vendor and a way to build its upscaler against it."""

    fake: FakeServer
    make: Callable[..., Any]
    create_route: str

    def upscaler(self, **kwargs: Any) -> Any:
        return self.make(KEY, base_url=self.fake.base_url, poll_interval=0.01, **kwargs)


@pytest.fixture(params=["replicate", "fal"])
def vendor(request: pytest.FixtureRequest) -> Iterator[Vendor]:
    if request.param == "replicate":
        with FakeReplicate() as fake:
            yield Vendor(fake, ReplicateUpscaler, "create")
    else:
        with FakeFal() as fake:
            yield Vendor(fake, FalUpscaler, "submit")


# -- shared behaviour ---------------------------------------------------------------------------
async def test_success_is_the_upscaled_size(vendor: Vendor) -> None:
    ids: list[str] = []

    async def on_job(job_id: str) -> None:
        ids.append(job_id)

    up = vendor.upscaler()
    assert isinstance(up, Upscaler)
    result = await up.upscale(SOURCE, factor=3, on_job=on_job)
    assert image_size(result.image) == (60, 30) and result.mime_type == "image/png"
    assert len(ids) == 1 and vendor.fake.count(vendor.create_route) == 1
    assert up.name == vendor.fake.provider  # the registry key and the error's provider


async def test_429_carries_retry_after(vendor: Vendor) -> None:
    vendor.fake.script(["429:6"], op="upscale")
    with pytest.raises(RateLimited) as info:
        await vendor.upscaler().upscale(SOURCE, factor=2)
    assert info.value.retry_after == 6.0 and info.value.provider == vendor.fake.provider


async def test_500_is_unavailable(vendor: Vendor) -> None:
    vendor.fake.script(["500"], op="upscale")
    with pytest.raises(Unavailable) as info:
        await vendor.upscaler().upscale(SOURCE, factor=2)
    assert info.value.status_code == 500


async def test_timeout_is_unavailable(vendor: Vendor) -> None:
    vendor.fake.script(["slow:3"], op="upscale")
    with pytest.raises(Unavailable):
        await vendor.upscaler(timeout=0.3).upscale(SOURCE, factor=2)


async def test_malformed_output_bytes_are_bad_image(vendor: Vendor) -> None:
    vendor.fake.script(["badimage"], op="upscale")
    with pytest.raises(BadImage):
        await vendor.upscaler().upscale(SOURCE, factor=2)


async def test_undecodable_input_is_invalid_and_sends_nothing(vendor: Vendor) -> None:
    with pytest.raises(InvalidRequest):
        await vendor.upscaler().upscale(b"\x89PNG\r\n\x1a\nnot really", factor=2)
    assert vendor.fake.count() == 0


async def test_wrong_key_is_auth_failed_without_echo(vendor: Vendor) -> None:
    vendor.fake.key = "the-right-key-456"
    with pytest.raises(AuthFailed) as info:
        await vendor.upscaler().upscale(SOURCE, factor=2)
    assert KEY not in str(info.value)


async def test_key_never_in_error_messages(vendor: Vendor) -> None:
    steps = ["429:1", "500", "401", "422", "badimage"]
    vendor.fake.script(steps, op="upscale")
    for _ in steps:
        with pytest.raises(ProviderError) as info:
            await vendor.upscaler().upscale(SOURCE, factor=2)
        assert KEY not in str(info.value) and KEY not in repr(info.value)


async def test_recorded_params_hold_no_image_payload(vendor: Vendor) -> None:
    result = await vendor.upscaler().upscale(SOURCE, factor=2)
    assert all("base64," not in str(v) for v in result.params.values())
    assert 2 in result.params.values()


async def test_url_output_downloaded_without_key(vendor: Vendor) -> None:
    vendor.fake.output_mode = "url"  # type: ignore[attr-defined]  # only the Replicate and fal fakes have output_mode, and only they are parametrized here
    result = await vendor.upscaler().upscale(SOURCE, factor=2)
    assert "authorization" not in vendor.fake.last("download").headers
    assert image_size(result.image) == (40, 20)


# -- Replicate: nightmareai/real-esrgan ---------------------------------------------------------
async def test_replicate_creates_by_version_with_the_esrgan_input(replicate: FakeReplicate) -> None:
    result = await ReplicateUpscaler(KEY, base_url=replicate.base_url, poll_interval=0.01).upscale(SOURCE, factor=2)
    create = replicate.last("create")
    assert create.path == "/v1/predictions" and create.json["version"] == DEFAULT_ESRGAN_VERSION
    sent = create.json["input"]
    assert sent["image"].startswith("data:image/png;base64,")
    assert sent["scale"] == 2 and sent["face_enhance"] is False
    assert isinstance(replicate.predictions[replicate.polled_ids()[0]].output, str)  # one URL, not a list
    assert result.model == "nightmareai/real-esrgan:" + DEFAULT_ESRGAN_VERSION
    assert result.params == {"image": result.params["image"], "scale": 2, "face_enhance": False}


async def test_replicate_model_route_without_version(replicate: FakeReplicate) -> None:
    up = ReplicateUpscaler(KEY, base_url=replicate.base_url, version=None, poll_interval=0.01)
    result = await up.upscale(SOURCE, factor=4)
    assert replicate.last("create").path == "/v1/models/nightmareai/real-esrgan/predictions"
    assert image_size(result.image) == (80, 40)


async def test_replicate_large_image_is_uploaded(replicate: FakeReplicate) -> None:
    up = ReplicateUpscaler(KEY, base_url=replicate.base_url, poll_interval=0.01, inline_limit=10)
    result = await up.upscale(SOURCE, factor=2)
    assert replicate.count("upload") == 1
    assert replicate.last("create").json["input"]["image"].startswith(replicate.base_url + "/files/")
    assert image_size(result.image) == (40, 20)


async def test_replicate_resume_polls_without_creating(replicate: FakeReplicate) -> None:
    pid = replicate.add_prediction(
        polls=2, model="nightmareai/real-esrgan", input={"image": to_data_uri(SOURCE, "image/png"), "scale": 2}
    )
    result = await ReplicateUpscaler(KEY, base_url=replicate.base_url, poll_interval=0.01).upscale(
        SOURCE, factor=2, job_id=pid
    )
    assert replicate.count("create") == 0 and replicate.polled_ids() == [pid] * 3
    assert image_size(result.image) == (40, 20) and result.params["image"].startswith("<data URI")


@pytest.mark.parametrize(
    ("step", "cls"), [("failed", Unavailable), ("aborted", Unavailable), ("canceled", Unavailable)]
)
async def test_replicate_terminal_failures(replicate: FakeReplicate, step: str, cls: type) -> None:
    replicate.script([step], op="upscale")
    with pytest.raises(cls):
        await ReplicateUpscaler(KEY, base_url=replicate.base_url, poll_interval=0.01).upscale(SOURCE, factor=2)


# -- fal: fal-ai/esrgan and fal-ai/clarity-upscaler ---------------------------------------------
async def test_fal_esrgan_sends_image_url_and_scale(fal: FakeFal) -> None:
    result = await FalUpscaler(KEY, base_url=fal.base_url, poll_interval=0.01).upscale(SOURCE, factor=4)
    submit = fal.last("submit")
    assert submit.path == "/fal-ai/esrgan" and submit.headers["authorization"] == f"Key {KEY}"
    assert submit.json["scale"] == 4 and submit.json["image_url"].startswith("data:image/png;base64,")
    assert result.model == "fal-ai/esrgan" and result.params["image_url"].startswith("<data URI")


async def test_fal_clarity_sends_upscale_factor(fal: FakeFal) -> None:
    up = FalUpscaler(KEY, base_url=fal.base_url, model=CLARITY, poll_interval=0.01)
    result = await up.upscale(SOURCE, factor=2)
    submit = fal.last("submit")
    assert submit.path == "/fal-ai/clarity-upscaler"
    assert submit.json["upscale_factor"] == 2 and "scale" not in submit.json
    assert image_size(result.image) == (40, 20) and result.model == CLARITY


async def test_fal_failed_result_is_mapped(fal: FakeFal) -> None:
    fal.script(["fail:422", "fail:503"], op="upscale")
    up = FalUpscaler(KEY, base_url=fal.base_url, poll_interval=0.01)
    with pytest.raises(InvalidRequest):
        await up.upscale(SOURCE, factor=2)
    with pytest.raises(Unavailable):
        await up.upscale(SOURCE, factor=2)


async def test_fal_resume_waits_without_submitting(fal: FakeFal) -> None:
    rid = fal.add_request(
        endpoint="fal-ai/esrgan", arguments={"image_url": to_data_uri(SOURCE, "image/png"), "scale": 3}
    )
    result = await FalUpscaler(KEY, base_url=fal.base_url, poll_interval=0.01).upscale(SOURCE, factor=3, job_id=rid)
    assert fal.count("submit") == 0 and image_size(result.image) == (60, 30)
