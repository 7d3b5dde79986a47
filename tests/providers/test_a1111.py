"""A1111Renderer, A1111Upscaler and the node probe against the fake AUTOMATIC1111 web API.

The fake refuses fields A1111's API models lack (``strict``), so every success here also proves
the adapter sends only real fields.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from providers.a1111.adapter import A1111Renderer
from providers.a1111.factory import probe, renderer, upscaler
from providers.a1111.spec import DEFAULT_UPSCALER, SPEC
from providers.a1111.upscale import A1111Upscaler
from providers.base import (
    AuthFailed,
    BadImage,
    InvalidRequest,
    Progress,
    Renderer,
    RenderRequest,
    Unavailable,
    Upscaler,
)
from providers.spec import AdapterConfig, load_factory
from tests.providers.fake_a1111 import FakeA1111
from tests.providers.fake_base import image_size, make_png
from tests.support.sd_reader import sd_parse

REQ = RenderRequest(prompt="a red lighthouse", width=64, height=48, negative="blurry")
PASSWORD = "s3cret-pass"


@pytest.fixture
def a1111() -> Iterator[FakeA1111]:
    with FakeA1111() as fake:
        yield fake
    assert fake.crashes == []


def sent(fake: FakeA1111, route: str) -> dict[str, object]:
    body = fake.last(route).json
    assert isinstance(body, dict)
    return body


async def test_txt2img_records_the_seed_and_checkpoint_the_node_used(a1111: FakeA1111) -> None:
    adapter = A1111Renderer([a1111.base_url])
    assert isinstance(adapter, Renderer)
    seen: list[str] = []

    async def on_job(job: str) -> None:
        seen.append(job)

    result = await adapter.render(REQ, on_job=on_job)
    body = sent(a1111, "txt2img")
    assert body["seed"] == -1 and "override_settings" not in body and "scheduler" not in body
    assert (body["steps"], body["cfg_scale"], body["sampler_name"]) == (20, 7.0, "Euler a")
    assert (body["batch_size"], body["n_iter"], body["send_images"], body["save_images"]) == (1, 1, True, False)
    assert result.seed is not None and result.seed >= 0  # the seed the node drew, from info
    with Image.open(io.BytesIO(result.image)) as im:
        assert f"Seed: {result.seed}," in im.info["parameters"]
    assert result.model == "sdxl [31e35c80fc]" and result.reproducible and result.mime_type == "image/png"
    assert result.params == {
        "node": a1111.base_url,
        "steps": 20,
        "cfg": 7.0,
        "sampler": "Euler a",
        "checkpoint": "sdxl",
        "checkpoint_hash": "31e35c80fc",
        "version": "v1.10.1",
    }
    assert image_size(result.image) == (64, 48) and seen == []  # A1111 has no job ids
    # the recorded seed and settings give the same bytes again
    replay = RenderRequest(REQ.prompt, 64, 48, negative="blurry", seed=result.seed, params=dict(result.params))
    assert (await adapter.render(replay)).image == result.image
    assert sent(a1111, "txt2img")["override_settings"] == {"sd_model_checkpoint": "sdxl"}


async def test_params_choose_steps_cfg_sampler_scheduler_and_checkpoint(a1111: FakeA1111) -> None:
    params = {"steps": 8, "cfg": 4.5, "sampler": "k_dpmpp_2m", "scheduler": "Karras", "checkpoint": "dreamshaper_8"}
    request = RenderRequest(REQ.prompt, 64, 48, seed=7, params=params)
    result = await A1111Renderer([a1111.base_url]).render(request)
    body = sent(a1111, "txt2img")
    assert (body["steps"], body["cfg_scale"], body["sampler_name"], body["scheduler"]) == (
        8,
        4.5,
        "k_dpmpp_2m",
        "Karras",
    )
    assert body["override_settings"] == {"sd_model_checkpoint": "dreamshaper_8"} and body["seed"] == 7
    assert result.seed == 7 and result.model == "dreamshaper_8 [879db523c3]"
    # the sampler as the node names it (the alias resolved), the checkpoint that ran
    assert result.params["sampler"] == "DPM++ 2M" and result.params["scheduler"] == "Karras"
    assert (result.params["checkpoint"], result.params["checkpoint_hash"]) == ("dreamshaper_8", "879db523c3")


async def test_img2img_sends_the_init_image_strength_and_mask(a1111: FakeA1111) -> None:
    init, mask = make_png(64, 48, seed=3), make_png(64, 48, seed=9)
    adapter = A1111Renderer([a1111.base_url])
    result = await adapter.render(RenderRequest(REQ.prompt, 64, 48, seed=5, init_image=init, strength=0.4))
    body = sent(a1111, "img2img")
    assert body["init_images"] == [base64.b64encode(init).decode()] and body["denoising_strength"] == 0.4
    assert "mask" not in body and result.params["denoising_strength"] == 0.4 and result.seed == 5
    await adapter.render(RenderRequest(REQ.prompt, 64, 48, init_image=init, mask=mask))
    body = sent(a1111, "img2img")
    assert body["denoising_strength"] == 0.75 and body["mask"] == base64.b64encode(mask).decode()
    assert a1111.count("txt2img") == 0


async def test_a_bad_init_image_is_refused_before_sending(a1111: FakeA1111) -> None:
    with pytest.raises(InvalidRequest, match="init image"):
        await A1111Renderer([a1111.base_url]).render(RenderRequest("x", 64, 48, init_image=b"not an image"))
    assert a1111.count() == 0


async def test_the_studio_chooses_the_node() -> None:
    with FakeA1111() as first, FakeA1111() as second:
        adapter = A1111Renderer([first.base_url, second.base_url + "/"])
        result = await adapter.render(RenderRequest("x", 64, 48, node=second.base_url))
        assert result.params["node"] == second.base_url
        assert (first.count(), second.count("txt2img")) == (0, 1)
        with pytest.raises(InvalidRequest, match="no node"):
            await adapter.render(RenderRequest("x", 64, 48, node="http://127.0.0.1:1"))
        await adapter.render(RenderRequest("x", 64, 48))  # no choice: the first node
        assert (first.count("txt2img"), second.count()) == (1, 1)


async def test_basic_auth_is_sent_and_never_shown() -> None:
    with FakeA1111(auth=("ada", PASSWORD)) as fake:
        good = A1111Renderer([fake.base_url], auth=f"ada:{PASSWORD}")
        assert (await good.render(REQ)).image
        expected = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
        assert fake.last("txt2img").headers["authorization"] == f"Basic {expected}"
        bad = A1111Renderer([fake.base_url], auth="ada:wrong-password")
        with pytest.raises(AuthFailed) as caught:
            await bad.render(REQ)
        assert "Incorrect username or password" in str(caught.value) and caught.value.status_code == 401
        with pytest.raises(AuthFailed):
            await A1111Renderer([fake.base_url]).render(REQ)
    for text in (str(caught.value), repr(good), repr(caught.value), str(good._api)):
        assert PASSWORD not in text and expected not in text


async def test_a_credential_without_a_colon_is_a_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, json={"error": "HTTPException", "detail": "token tok-123456 refused"})

    adapter = A1111Renderer(["http://gpu:7860"], auth="tok-123456", transport=httpx.MockTransport(answer))
    with pytest.raises(AuthFailed) as caught:
        await adapter.render(REQ)
    assert seen[0].headers["authorization"] == "Bearer tok-123456"
    assert "tok-123456" not in str(caught.value) and "refused" in str(caught.value)


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"sampler": "Euler z"}, "Sampler not found"),
        ({"checkpoint": "nope"}, "Checkpoint not found: nope"),
    ],
)
async def test_unknown_sampler_or_checkpoint_is_invalid(a1111: FakeA1111, params: dict[str, str], said: str) -> None:
    with pytest.raises(InvalidRequest, match=said) as caught:
        await A1111Renderer([a1111.base_url]).render(RenderRequest("x", 64, 48, params=params))
    assert caught.value.status_code == 404 and a1111.renders == 0


async def test_a_field_the_node_refuses_is_invalid_and_named(a1111: FakeA1111) -> None:
    request = RenderRequest("x", 64, 48, init_image=make_png(), strength=1.5)
    with pytest.raises(InvalidRequest, match="denoising_strength: ensure this value is less than") as caught:
        await A1111Renderer([a1111.base_url]).render(request)
    assert caught.value.status_code == 422


async def test_parameters_of_the_wrong_type_are_refused_before_sending(a1111: FakeA1111) -> None:
    for params in ({"steps": "twenty"}, {"sampler": 3}):
        with pytest.raises(InvalidRequest):
            await A1111Renderer([a1111.base_url]).render(RenderRequest("x", 64, 48, params=params))
    assert a1111.count() == 0


async def test_server_errors_down_and_dropped_connections_are_unavailable(a1111: FakeA1111) -> None:
    adapter = A1111Renderer([a1111.base_url])
    a1111.script(["500:CUDA out of memory", "drop"])
    with pytest.raises(Unavailable, match="CUDA out of memory"):
        await adapter.render(REQ)
    with pytest.raises(Unavailable, match="RemoteProtocolError"):
        await adapter.render(REQ)
    assert a1111.renders == 1  # the dropped call was rendered: the node did the work, we have no handle
    a1111.down()
    with pytest.raises(Unavailable, match="unreachable"):
        await adapter.render(REQ)
    a1111.up()
    assert (await adapter.render(REQ)).image


async def test_a_timeout_is_unavailable(a1111: FakeA1111) -> None:
    a1111.script(["hold"])
    with pytest.raises(Unavailable, match="timed out"):
        await A1111Renderer([a1111.base_url], timeout=0.3).render(REQ)
    a1111.release()


@pytest.mark.parametrize(
    "images",
    [[], ["not base64!"], [base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode()]],
)
async def test_an_answer_without_a_decodable_image_is_bad_image(images: list[str]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"images": images, "parameters": {}, "info": "{}"})

    with pytest.raises(BadImage):
        await A1111Renderer(["http://gpu:7860"], transport=httpx.MockTransport(answer)).render(REQ)


async def test_progress_reports_sampler_steps_during_a_slow_render(a1111: FakeA1111) -> None:
    a1111.script(["slow:1.0"])
    reports: list[Progress] = []

    async def on_progress(progress: Progress) -> None:
        reports.append(progress)

    adapter = A1111Renderer([a1111.base_url], progress_interval=0.05)
    await adapter.render(RenderRequest("x", 64, 48, params={"steps": 30}), on_progress=on_progress)
    assert reports, "no progress during a one-second render"
    assert {(p.node, p.state, p.steps) for p in reports} == {(a1111.base_url, "running", 30)}
    steps = [p.step for p in reports if p.step is not None]
    assert (
        len(steps) == len(reports) and steps == sorted(steps) and len(set(steps)) == len(steps)
    )  # reported when it changed
    assert a1111.count("progress") >= len(reports)


async def test_the_png_carries_the_infotext_of_the_recipe(a1111: FakeA1111) -> None:
    result = await A1111Renderer([a1111.base_url]).render(REQ)
    parsed = sd_parse(result.image)
    assert parsed is not None and parsed.generator.name == "AUTOMATIC1111"
    sampler = parsed.samplers[0]
    assert sampler.parameters["seed"] == str(result.seed) and sampler.name == result.params["sampler"]
    assert sampler.model is not None and (sampler.model.name, sampler.model.hash) == ("sdxl", "31e35c80fc")


async def test_upscaler_doubles_the_size(a1111: FakeA1111) -> None:
    adapter = A1111Upscaler([a1111.base_url])
    assert isinstance(adapter, Upscaler)
    result = await adapter.upscale(make_png(32, 24), factor=2)
    assert image_size(result.image) == (64, 48) and result.mime_type == "image/png"
    assert result.model == DEFAULT_UPSCALER == "R-ESRGAN 4x+"
    assert result.params == {"node": a1111.base_url, "upscaler": "R-ESRGAN 4x+", "factor": 2}
    body = sent(a1111, "extras")
    assert (body["upscaling_resize"], body["upscaler_1"]) == (2, "R-ESRGAN 4x+")


async def test_upscaler_refusals(a1111: FakeA1111) -> None:
    with pytest.raises(InvalidRequest, match="could not find upscaler named Magic"):
        await A1111Upscaler([a1111.base_url], upscaler="Magic").upscale(make_png(), factor=2)
    with pytest.raises(InvalidRequest, match="1 to 8"):
        await A1111Upscaler([a1111.base_url]).upscale(make_png(), factor=9)
    with pytest.raises(InvalidRequest, match="image to upscale"):
        await A1111Upscaler([a1111.base_url]).upscale(b"nope", factor=2)
    assert a1111.count("extras") == 1
    a1111.down()
    with pytest.raises(Unavailable):
        await A1111Upscaler([a1111.base_url]).upscale(make_png(), factor=2)


async def test_probe_of_idle_busy_down_and_locked_nodes(a1111: FakeA1111) -> None:
    check = probe(AdapterConfig(nodes=(a1111.base_url,)))
    idle = {"reachable": True, "version": None, "queue": None, "running": 0, "error": None}
    assert await check(a1111.base_url) == idle
    with a1111.busy():
        assert (await check(a1111.base_url))["running"] == 1
    with FakeA1111(auth=("ada", PASSWORD)) as locked:
        refused = await check(locked.base_url)
        assert refused["reachable"] is True and "authentication failed" in refused["error"]
        opened = await probe(AdapterConfig(nodes=(locked.base_url,), auth=f"ada:{PASSWORD}"))(locked.base_url)
        assert opened == idle
    a1111.down()
    down = await asyncio.wait_for(check(a1111.base_url), 10)
    assert down["reachable"] is False and "unreachable" in down["error"]


def test_the_table_entry_names_factories_that_build_the_adapters(a1111: FakeA1111) -> None:
    config = AdapterConfig(nodes=(a1111.base_url,), auth=f"ada:{PASSWORD}", timeout=42)
    assert SPEC.render and SPEC.upscale and SPEC.probe
    built = load_factory(SPEC.render)(config)
    assert isinstance(built, A1111Renderer) and built._api.timeout == 42 and PASSWORD not in repr(built)
    assert isinstance(load_factory(SPEC.upscale)(config), A1111Upscaler)
    assert load_factory(SPEC.probe) is probe and renderer(config).name == upscaler(config).name == SPEC.name
    assert (SPEC.nodes and SPEC.nodes.env, SPEC.auth and SPEC.auth.secret) == ("A1111_URLS", True)
    assert set(SPEC.aliases) == {"forge", "automatic1111"} and SPEC.prices["a1111"] == 0.0


async def test_adapters_built_without_nodes_refuse_every_call() -> None:
    # the worker builds none without A1111_URLS; the table's own checks build them from an empty config
    config = AdapterConfig(key="test-key", base_url="http://127.0.0.1:9")
    built = load_factory(SPEC.upscale or "")(config)
    assert built.model == SPEC.models["upscale"]
    with pytest.raises(InvalidRequest, match="A1111_URLS"):
        await built.upscale(make_png(), factor=2)
    with pytest.raises(InvalidRequest, match="A1111_URLS"):
        await load_factory(SPEC.render or "")(config).render(REQ)
