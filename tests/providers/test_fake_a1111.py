"""The fake AUTOMATIC1111 API speaks the real protocol (plain httpx; infotexts read by sd-parsers)."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.providers.fake_a1111 import FakeA1111
from tests.providers.fake_base import image_size, make_png
from tests.support.sd_reader import sd_parse

TXT2IMG = "/sdapi/v1/txt2img"
IMG2IMG = "/sdapi/v1/img2img"
EXTRAS = "/sdapi/v1/extra-single-image"
BASE = {"prompt": "a red lighthouse", "negative_prompt": "blurry", "seed": 123, "steps": 20, "cfg_scale": 7,
        "width": 64, "height": 48, "sampler_name": "Euler a"}  # fmt: skip


@pytest.fixture
def a1111() -> Iterator[FakeA1111]:
    with FakeA1111() as fake:
        yield fake
    assert fake.crashes == []


def post(fake: FakeA1111, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return httpx.post(fake.url(path), json=body, timeout=5, **kwargs)


def first_png(response: httpx.Response) -> bytes:
    return base64.b64decode(response.json()["images"][0])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_txt2img_answers_like_a1111(a1111: FakeA1111) -> None:
    r = post(a1111, TXT2IMG, BASE | {"override_settings": {"sd_model_checkpoint": "dreamshaper_8"}})
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body["info"], str) and body["parameters"]["prompt"] == "a red lighthouse"
    info = json.loads(body["info"])
    assert info["seed"] == 123 and info["all_seeds"] == [123] and isinstance(info["subseed"], int)
    assert (info["sd_model_name"], info["sd_model_hash"]) == ("dreamshaper_8", "879db523c3")
    assert len(info["job_timestamp"]) == 14 and info["job_timestamp"].isdigit()
    text = info["infotexts"][0]
    assert text.startswith("a red lighthouse\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, ")
    assert "Seed: 123, Size: 64x48, Model hash: 879db523c3, Model: dreamshaper_8" in text
    png = first_png(r)
    assert image_size(png) == (64, 48)
    with Image.open(io.BytesIO(png)) as im:
        assert im.info["parameters"] == text
    assert a1111.current_model == "sdxl"  # override_settings are restored afterwards by default


def test_sd_parsers_reads_the_fake_png(a1111: FakeA1111) -> None:
    parsed = sd_parse(first_png(post(a1111, TXT2IMG, BASE)))
    assert parsed is not None and parsed.generator.name == "AUTOMATIC1111"
    sampler = parsed.samplers[0]
    assert sampler.name == "Euler a"
    assert sampler.parameters["seed"] == "123" and sampler.parameters["steps"] == "20"
    assert sampler.parameters["cfg_scale"] == "7"
    assert sampler.model is not None and (sampler.model.name, sampler.model.hash) == ("sdxl", "31e35c80fc")
    assert parsed.full_prompt == "a red lighthouse" and parsed.full_negative_prompt == "blurry"
    assert parsed.metadata["Size"] == "64x48"


def test_same_inputs_same_bytes_and_random_seed_reported(a1111: FakeA1111) -> None:
    drawn = post(a1111, TXT2IMG, BASE | {"seed": -1, "batch_size": 2})
    info = json.loads(drawn.json()["info"])
    assert info["seed"] != -1 and info["all_seeds"] == [info["seed"], info["seed"] + 1]
    assert len(drawn.json()["images"]) == 2 and f"Seed: {info['seed']}," in info["infotexts"][0]
    with FakeA1111() as other:  # the fake draws from a seeded generator: runs are reproducible
        assert json.loads(post(other, TXT2IMG, BASE | {"seed": -1}).json()["info"])["seed"] == info["seed"]
    replay = first_png(post(a1111, TXT2IMG, BASE | {"seed": info["seed"]}))
    assert replay == base64.b64decode(drawn.json()["images"][0])  # the reported seed reproduces the image
    first, again = first_png(post(a1111, TXT2IMG, BASE)), first_png(post(a1111, TXT2IMG, BASE))
    assert first == again
    assert first_png(post(a1111, TXT2IMG, BASE | {"seed": 124})) != first
    assert first_png(post(a1111, TXT2IMG, BASE | {"prompt": "a blue lighthouse"})) != first


def test_img2img_init_image_mask_and_strength(a1111: FakeA1111) -> None:
    init = make_png(64, 48, seed=3)
    body = BASE | {"init_images": [b64(init)], "denoising_strength": 0.0}
    r = post(a1111, IMG2IMG, body)
    assert r.status_code == 200
    with Image.open(io.BytesIO(init)) as a, Image.open(io.BytesIO(first_png(r))) as b:
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()  # strength 0 keeps the init image
    assert r.json()["parameters"]["init_images"] is None  # not echoed back, as A1111
    info = json.loads(r.json()["info"])
    assert "Denoising strength: 0," in info["infotexts"][0] and info["denoising_strength"] == 0.0
    mask = Image.new("L", (64, 48), 0)
    data_url = "data:image/png;base64," + b64(init)
    masked = post(a1111, IMG2IMG, body | {"init_images": [data_url], "mask": b64(_png(mask)), "denoising_strength": 1})
    assert masked.status_code == 200 and image_size(first_png(masked)) == (64, 48)


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        (TXT2IMG, BASE | {"sampler": "Euler a"}, 422, "extra fields not permitted"),
        (TXT2IMG, BASE | {"steps": "twenty"}, 422, "value is not a valid integer"),
        (IMG2IMG, BASE | {"init_images": [b64(make_png())], "denoising_strength": 1.5}, 422, "less than or equal to 1"),
        (EXTRAS, {"image": b64(make_png()), "upscaling_resize": 0.5}, 422, "greater than or equal to 1"),
        (TXT2IMG, BASE | {"sampler_name": "Euler z"}, 404, "Sampler not found"),
        (TXT2IMG, BASE | {"override_settings": {"sd_model_checkpoint": "nope"}}, 404, "Checkpoint not found: nope"),
        (IMG2IMG, BASE, 404, "Init image not found"),
        (IMG2IMG, BASE | {"init_images": ["not base64 at all!"]}, 500, "Invalid encoded image"),
        (EXTRAS, {"image": b64(make_png()), "upscaler_1": "Magic"}, 500, "could not find upscaler named Magic"),
    ],
)
def test_refuses_what_a1111_refuses(
    a1111: FakeA1111, path: str, body: dict[str, Any], status: int, detail: str
) -> None:
    r = post(a1111, path, body)
    assert r.status_code == status and detail in r.text
    if status == 422:
        assert {"loc", "msg", "type"} <= set(r.json()["detail"][0])
    else:
        assert set(r.json()) == {"error", "detail", "body", "errors"}
    assert a1111.renders == 0


def test_not_strict_ignores_unknown_fields() -> None:
    with FakeA1111(strict=False) as fake:
        assert post(fake, TXT2IMG, BASE | {"sampler": "typo"}).status_code == 200


def test_extras_upscales(a1111: FakeA1111) -> None:
    r = post(a1111, EXTRAS, {"image": b64(make_png(32, 24)), "upscaling_resize": 2, "upscaler_1": "R-ESRGAN 4x+"})
    assert r.status_code == 200 and set(r.json()) == {"image", "html_info"}
    assert image_size(base64.b64decode(r.json()["image"])) == (64, 48)
    assert "R-ESRGAN 4x+" in r.json()["html_info"]


def test_listings(a1111: FakeA1111) -> None:
    models = httpx.get(a1111.url("/sdapi/v1/sd-models")).json()
    assert models[0]["title"] == "sdxl.safetensors [31e35c80fc]" and models[0]["model_name"] == "sdxl"
    assert "Euler a" in [s["name"] for s in httpx.get(a1111.url("/sdapi/v1/samplers")).json()]
    assert "R-ESRGAN 4x+" in [u["name"] for u in httpx.get(a1111.url("/sdapi/v1/upscalers")).json()]
    idle = httpx.get(a1111.url("/sdapi/v1/progress")).json()
    assert idle["progress"] == 0 and idle["state"]["job_count"] == 0 and idle["current_image"] is None
    assert httpx.get(a1111.url("/sdapi/v1/nope")).status_code == 404


def test_basic_auth() -> None:
    with FakeA1111(auth=("ada", "s3cret")) as fake:
        refused = post(fake, TXT2IMG, BASE)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Basic"
        assert refused.json()["detail"] == "Incorrect username or password"
        assert post(fake, TXT2IMG, BASE, auth=("ada", "wrong")).status_code == 401
        assert post(fake, TXT2IMG, BASE, auth=("ada", "s3cret")).status_code == 200
        assert httpx.get(fake.url("/sdapi/v1/progress")).status_code == 401


def _in_thread(fake: FakeA1111, results: list[httpx.Response | Exception]) -> threading.Thread:
    def call() -> None:
        try:
            results.append(post(fake, TXT2IMG, BASE))
        except httpx.HTTPError as exc:
            results.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    return thread


def test_one_global_lock_second_call_waits(a1111: FakeA1111) -> None:
    a1111.script(["hold"])
    results: list[httpx.Response | Exception] = []
    first = _in_thread(a1111, results)
    assert a1111.wait_until(lambda: a1111.log == ["start 1"])
    second = _in_thread(a1111, results)
    assert a1111.wait_until(lambda: a1111.waiting == 1)
    progress = httpx.get(a1111.url("/sdapi/v1/progress")).json()  # answers while the lock is held
    assert progress["state"]["job_count"] == 1 and progress["state"]["sampling_steps"] == 20
    assert a1111.log == ["start 1"] and results == []
    a1111.release()
    first.join(5)
    second.join(5)
    assert a1111.log == ["start 1", "end 1", "start 2", "end 2"] and a1111.max_concurrent == 1
    assert [r.status_code for r in results if isinstance(r, httpx.Response)] == [200, 200]


def test_busy_web_ui_makes_api_calls_wait(a1111: FakeA1111) -> None:
    results: list[httpx.Response | Exception] = []
    with a1111.busy():
        thread = _in_thread(a1111, results)
        assert a1111.wait_until(lambda: a1111.waiting == 1)
        assert httpx.get(a1111.url("/sdapi/v1/progress")).json()["state"]["job_count"] == 1
        assert a1111.log == []
    thread.join(5)
    assert isinstance(results[0], httpx.Response) and results[0].status_code == 200


def test_scripted_500_then_ok(a1111: FakeA1111) -> None:
    a1111.script(["500:CUDA out of memory"])
    failed = post(a1111, TXT2IMG, BASE)
    assert failed.status_code == 500 and failed.json()["errors"] == "CUDA out of memory"
    assert post(a1111, TXT2IMG, BASE).status_code == 200
    assert a1111.renders == 1 and a1111.count("txt2img") == 2


def test_drop_closes_the_connection_after_rendering(a1111: FakeA1111) -> None:
    a1111.script(["drop"])
    with pytest.raises(httpx.RemoteProtocolError):
        post(a1111, TXT2IMG, BASE)
    assert a1111.renders == 1  # the GPU did the work; the client has no handle on it
    assert post(a1111, TXT2IMG, BASE).status_code == 200


def test_down_refuses_connections_then_up_on_the_same_url(a1111: FakeA1111) -> None:
    url = a1111.base_url
    a1111.down()
    with pytest.raises(httpx.ConnectError):
        post(a1111, TXT2IMG, BASE)
    assert a1111.up().base_url == url
    assert post(a1111, TXT2IMG, BASE).status_code == 200


def test_going_down_mid_render_cuts_the_call(a1111: FakeA1111) -> None:
    a1111.script(["hold"])
    results: list[httpx.Response | Exception] = []
    thread = _in_thread(a1111, results)
    assert a1111.wait_until(lambda: a1111.log == ["start 1"])
    a1111.down()
    thread.join(5)
    assert isinstance(results[0], httpx.RemoteProtocolError)
    assert a1111.log == ["start 1", "cut 1"] and a1111.renders == 0
    a1111.up()
    assert post(a1111, TXT2IMG, BASE).status_code == 200


def test_stop_joins_threads_and_wakes_slow_renders() -> None:
    before = threading.active_count()
    fake = FakeA1111(render_seconds=30).start()
    with pytest.raises(httpx.TimeoutException):
        httpx.post(fake.url(TXT2IMG), json=BASE, timeout=0.2)
    fake.stop()  # returns promptly instead of waiting 30 s
    assert threading.active_count() == before
