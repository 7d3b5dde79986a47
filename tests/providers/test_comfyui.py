"""The comfyui renderer against the fake ComfyUI (HTTP and websocket; tests.providers.fake_comfyui)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import pytest

from providers.base import AuthFailed, InvalidRequest, Progress, RenderRequest, Unavailable
from providers.comfyui.adapter import ComfyUIRenderer, prompt_id_for
from providers.comfyui.factory import probe, renderer
from providers.comfyui.spec import SPEC
from providers.comfyui.workflow import workflow_sha256
from providers.spec import AdapterConfig, load_factory
from tests.providers.fake_base import image_size, make_png
from tests.providers.fake_comfyui import VERSION, FakeComfyUI
from tests.providers.test_fake_comfyui import UI_FORMAT, WORKFLOW

TEMPLATE: dict[str, Any] = copy.deepcopy(WORKFLOW)
TEMPLATE["6"]["inputs"]["text"] = "$prompt"
TEMPLATE["3"]["inputs"]["seed"] = "$seed"
TEMPLATE["5"]["inputs"].update(width="$width", height="$height")
# The negative prompt, steps and sampler have no placeholder: they are patched on the sampler graph.

TOKEN = "secret-token-1234"


@pytest.fixture
def comfy() -> Iterator[FakeComfyUI]:
    with FakeComfyUI(seconds_per_image=0.01) as fake:
        yield fake
        assert fake.crashes == []


def make_renderer(comfy: FakeComfyUI, **kwargs: Any) -> ComfyUIRenderer:
    # max_wait only keeps a broken test from hanging; no test comes near it.
    options: dict[str, Any] = {"timeout": 5.0, "poll_interval": 0.1, "max_wait": 30.0} | kwargs
    return ComfyUIRenderer([comfy.base_url], **options)


def make_request(**changes: Any) -> RenderRequest:
    fields: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "negative": "text, watermark",
        "width": 96,
        "height": 64,
        "seed": 11,
        "workflow": TEMPLATE,
        "params": {"workflow": "workflows/sdxl.json", "steps": 3, "sampler": "dpmpp_2m"},
        "call_id": "take-1/attempt-1",
    }
    return RenderRequest(**(fields | changes))


class Recorder:
    """Collects on_job and on_progress calls; ``when`` runs a test's action on a matching progress."""

    def __init__(self, comfy: FakeComfyUI) -> None:
        self.comfy = comfy
        self.jobs: list[tuple[str, int]] = []
        self.progress: list[Progress] = []
        self.seen = asyncio.Event()
        self.match: Any = lambda p: False
        self.action: Any = lambda: None

    async def on_job(self, job_id: str) -> None:
        self.jobs.append((job_id, self.comfy.submissions()))

    async def on_progress(self, progress: Progress) -> None:
        self.progress.append(progress)
        if self.match(progress) and not self.seen.is_set():
            self.seen.set()
            self.action()

    def states(self) -> list[str]:
        return [p.state for p in self.progress]


async def test_renders_fills_the_workflow_and_records_the_recipe(comfy: FakeComfyUI) -> None:
    rec = Recorder(comfy)
    result = await make_renderer(comfy).render(make_request(), on_job=rec.on_job, on_progress=rec.on_progress)

    prompt_id = prompt_id_for("take-1/attempt-1")
    assert result.job_id == f"{prompt_id}@{comfy.base_url}"
    assert rec.jobs == [(result.job_id, 0)]  # saved before anything was submitted
    assert comfy.submissions(prompt_id) == 1
    assert image_size(result.image) == (96, 64) and result.mime_type == "image/png"
    sent = comfy.last("prompt").json
    assert sent["prompt_id"] == sent["client_id"] == prompt_id
    graph = sent["prompt"]
    assert graph["6"]["inputs"]["text"] == "a lighthouse at dusk" and graph["7"]["inputs"]["text"] == "text, watermark"
    assert (graph["3"]["inputs"]["seed"], graph["5"]["inputs"]["width"], graph["5"]["inputs"]["height"]) == (11, 96, 64)
    assert graph["3"]["inputs"]["sampler_name"] == "dpmpp_2m"
    assert result.model == "comfyui:sd_xl_base_1.0.safetensors" and result.seed == 11 and result.reproducible
    assert result.params == {
        "workflow": "workflows/sdxl.json",
        "workflow_sha256": workflow_sha256(TEMPLATE),
        "node": comfy.base_url,
        "prompt_id": prompt_id,
        "steps": 3,
        "cfg": 7.0,
        "sampler": "dpmpp_2m",
        "scheduler": "normal",
        "checkpoint": "sd_xl_base_1.0.safetensors",
        "denoise": 1.0,
    }
    assert comfy.count("ws") == 1 and comfy.received("ws")[0].path.endswith(f"clientId={prompt_id}")


async def test_a_request_without_a_seed_records_the_seed_it_used(comfy: FakeComfyUI) -> None:
    first = await make_renderer(comfy).render(make_request(seed=None))
    assert first.seed is not None and 0 <= first.seed < 2**31
    assert comfy.last("prompt").json["prompt"]["3"]["inputs"]["seed"] == first.seed


async def test_progress_reports_the_queue_then_sampler_steps(comfy: FakeComfyUI) -> None:
    comfy.pause()  # the job waits in the queue until the renderer has seen it there
    rec = Recorder(comfy)
    rec.match, rec.action = (lambda p: p.state == "queued"), comfy.resume
    await make_renderer(comfy).render(make_request(), on_progress=rec.on_progress)

    assert rec.progress[0] == Progress(comfy.base_url, "queued", queue_position=0)
    steps = [(p.step, p.steps) for p in rec.progress if p.state == "running" and p.step is not None]
    assert steps == [(1, 3), (2, 3), (3, 3)]


async def test_node_errors_are_an_invalid_request_naming_node_and_input(comfy: FakeComfyUI) -> None:
    request = make_request(params={"workflow": "sdxl.json", "sampler": "euler_max"})
    with pytest.raises(InvalidRequest) as caught:
        await make_renderer(comfy).render(request)
    message = str(caught.value)
    assert f"node {comfy.base_url} refused the workflow" in message
    assert "node 3 (KSampler) input 'sampler_name'" in message and "euler_max" in message
    assert caught.value.detail == message and comfy.submissions() == 0


async def test_an_execution_error_carries_the_node_type_and_message(comfy: FakeComfyUI) -> None:
    comfy.fail_next("VAEDecode", "Allocation on device failed")
    with pytest.raises(Unavailable) as caught:
        await make_renderer(comfy).render(make_request())
    assert caught.value.detail == "execution_error in VAEDecode: Allocation on device failed"
    assert "execution_error in VAEDecode: Allocation on device failed" in str(caught.value)
    assert comfy.base_url in str(caught.value)


async def test_a_ui_format_or_missing_workflow_is_refused_before_any_call(comfy: FakeComfyUI) -> None:
    with pytest.raises(InvalidRequest, match=r"sdxl\.json: is in ComfyUI's UI format"):
        await make_renderer(comfy).render(make_request(workflow=UI_FORMAT, params={"workflow": "sdxl.json"}))
    with pytest.raises(InvalidRequest, match=r"comfyui needs a workflow: set \[providers\.comfyui\] workflow"):
        await make_renderer(comfy).render(make_request(workflow=None))
    with pytest.raises(InvalidRequest, match="is not one of COMFYUI_URLS"):
        await make_renderer(comfy).render(make_request(node="http://elsewhere:8188"))
    assert comfy.count() == 0


async def test_a_second_worker_resumes_the_running_job_without_submitting_again(comfy: FakeComfyUI) -> None:
    comfy.script(["hold"])  # the job stops after its first step until released
    first = Recorder(comfy)
    # The first worker gives up waiting (as a killed one would stop): the job keeps running.
    with pytest.raises(Unavailable, match="not finished after"):
        await make_renderer(comfy, max_wait=0.5).render(make_request(), on_job=first.on_job)
    job_id = first.jobs[0][0]

    second = Recorder(comfy)
    second.match, second.action = (lambda p: p.state == "running"), comfy.release
    result = await make_renderer(comfy).render(
        make_request(job_id=job_id), on_job=second.on_job, on_progress=second.on_progress
    )
    assert comfy.submissions() == 1 and second.jobs == []
    assert result.job_id == job_id and "resubmitted" not in result.params
    assert image_size(result.image) == (96, 64)


async def test_a_resumed_job_that_finished_meanwhile_is_fetched(comfy: FakeComfyUI) -> None:
    done = await make_renderer(comfy).render(make_request())
    again = await make_renderer(comfy).render(make_request(job_id=done.job_id))
    assert again.image == done.image and comfy.submissions() == 1


async def test_a_node_that_restarts_mid_job_gets_it_once_more(comfy: FakeComfyUI) -> None:
    comfy.script(["hold"])
    rec = Recorder(comfy)
    rec.match, rec.action = (lambda p: p.step == 1), comfy.restart
    result = await make_renderer(comfy).render(make_request(), on_progress=rec.on_progress)
    assert comfy.submissions(prompt_id_for("take-1/attempt-1")) == 2 and comfy.restarts == 1
    assert result.params["resubmitted"] is True and "resubmitted" in rec.states()
    assert image_size(result.image) == (96, 64)


async def test_a_job_lost_twice_is_an_outage(comfy: FakeComfyUI) -> None:
    comfy.script(["hold", "hold"])
    restarts: list[int] = []

    async def restart_on_first_step(progress: Progress) -> None:
        if progress.state == "running" and progress.step is not None and len(restarts) < 2:
            restarts.append(1)
            comfy.restart()

    with pytest.raises(Unavailable, match=r"lost job .* twice"):
        await make_renderer(comfy).render(make_request(), on_progress=restart_on_first_step)
    assert comfy.submissions() == 2


async def test_a_resumed_job_the_node_forgot_is_resubmitted_and_recorded(comfy: FakeComfyUI) -> None:
    job_id = f"{prompt_id_for('take-1/attempt-1')}@{comfy.base_url}"
    result = await make_renderer(comfy).render(make_request(job_id=job_id))
    assert result.params["resubmitted"] is True and comfy.submissions() == 1


async def test_a_node_that_is_down_is_an_outage(comfy: FakeComfyUI) -> None:
    comfy.down()
    with pytest.raises(Unavailable, match=f"node {comfy.base_url} unreachable"):
        await make_renderer(comfy).render(make_request())
    comfy.up()


async def test_a_node_that_blips_mid_job_keeps_the_job(comfy: FakeComfyUI) -> None:
    comfy.script(["hold"])
    rec = Recorder(comfy)

    def blip() -> None:
        comfy.down()  # the network goes; the job keeps running on the node

        def back() -> None:
            comfy.up()
            comfy.release()

        asyncio.get_running_loop().call_later(0.5, back)

    rec.match, rec.action = (lambda p: p.step == 1), blip
    result = await make_renderer(comfy, unreachable_grace=5.0).render(make_request(), on_progress=rec.on_progress)
    assert comfy.submissions() == 1 and "resubmitted" not in result.params


async def test_a_node_gone_past_the_grace_is_an_outage(comfy: FakeComfyUI) -> None:
    comfy.script(["hold"])
    rec = Recorder(comfy)
    rec.match, rec.action = (lambda p: p.step == 1), comfy.down
    try:
        with pytest.raises(Unavailable, match="unreachable"):
            await make_renderer(comfy, unreachable_grace=0.5).render(make_request(), on_progress=rec.on_progress)
    finally:
        comfy.up()
        comfy.release()
    assert comfy.submissions() == 1


async def test_a_hung_node_is_an_outage_within_the_timeout(comfy: FakeComfyUI) -> None:
    comfy.down("hang")
    try:
        with pytest.raises(Unavailable, match="timed out"):
            await make_renderer(comfy, timeout=0.3).render(make_request())
    finally:
        comfy.up()
    assert comfy.submissions() == 0


async def test_the_token_is_sent_everywhere_and_never_shown() -> None:
    with FakeComfyUI(seconds_per_image=0.01, key=TOKEN) as comfy:
        result = await make_renderer(comfy, token=TOKEN).render(make_request())
        assert image_size(result.image) == (96, 64)
        assert {r.headers.get("authorization") for r in comfy.requests} == {f"Bearer {TOKEN}"}
        assert "ws" in {r.route for r in comfy.requests}

        wrong = "wrong-token-5678"
        with pytest.raises(AuthFailed) as caught:  # the fake echoes what it was sent
            await make_renderer(comfy, token=wrong).render(make_request(call_id="other"))
        assert wrong not in str(caught.value) and wrong not in (caught.value.detail or "")

        comfy.fail_next("KSampler", f"bad header Bearer {TOKEN}")
        with pytest.raises(Unavailable) as failed:
            await make_renderer(comfy, token=TOKEN).render(make_request(call_id="third", seed=12))  # not cached
        assert TOKEN not in str(failed.value) and TOKEN not in (failed.value.detail or "")
        assert TOKEN not in repr(make_renderer(comfy, token=TOKEN))


async def test_cancelling_interrupts_a_running_job(comfy: FakeComfyUI) -> None:
    comfy.script(["hold"])
    rec = Recorder(comfy)
    rec.match = lambda p: p.step == 1
    task = asyncio.create_task(make_renderer(comfy).render(make_request(), on_progress=rec.on_progress))
    await asyncio.wait_for(rec.seen.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    prompt_id = prompt_id_for("take-1/attempt-1")
    assert comfy.last("interrupt").json == {"prompt_id": prompt_id}
    status = comfy.history(prompt_id)[prompt_id]["status"]
    assert status["messages"][-1][0] == "execution_interrupted"


async def test_cancelling_deletes_a_queued_job(comfy: FakeComfyUI) -> None:
    comfy.pause()
    rec = Recorder(comfy)
    rec.match = lambda p: p.state == "queued"
    task = asyncio.create_task(make_renderer(comfy).render(make_request(), on_progress=rec.on_progress))
    await asyncio.wait_for(rec.seen.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert comfy.last("queue_edit").json == {"delete": [prompt_id_for("take-1/attempt-1")]}
    assert comfy.queue_snapshot() == {"queue_running": [], "queue_pending": []}
    assert comfy.count("interrupt") == 0


async def test_an_init_image_is_uploaded_and_used(comfy: FakeComfyUI) -> None:
    img2img = copy.deepcopy(TEMPLATE)
    img2img["20"] = {"class_type": "LoadImage", "inputs": {"image": "$init_image"}}
    img2img["9"]["inputs"]["images"] = ["20", 0]  # the saved image is the init image itself
    init = make_png(40, 30)
    result = await make_renderer(comfy).render(make_request(workflow=img2img, init_image=init, strength=0.5))
    assert comfy.count("upload") == 1
    (name,) = comfy.input_files()
    assert comfy.last("prompt").json["prompt"]["20"]["inputs"]["image"] == name and name.endswith(".png")
    assert image_size(result.image) == (40, 30) and "init_image_ignored" not in result.params

    with pytest.raises(InvalidRequest, match=r"sdxl\.json: has \$init_image"):
        await make_renderer(comfy).render(make_request(workflow=img2img, call_id="no-init"))


async def test_a_mask_is_uploaded_to_the_workflows_mask_input_or_recorded_as_ignored(comfy: FakeComfyUI) -> None:
    inpaint = copy.deepcopy(TEMPLATE)
    inpaint["20"] = {"class_type": "LoadImage", "inputs": {"image": "$init_image"}}
    inpaint["21"] = {"class_type": "LoadImage", "inputs": {"image": "$mask"}}
    inpaint["9"]["inputs"]["images"] = ["20", 0]
    init, mask = make_png(40, 30, seed=1), make_png(40, 30, seed=2)
    request = make_request(workflow=inpaint, init_image=init, mask=mask, strength=0.5)
    result = await make_renderer(comfy).render(request)
    graph = comfy.last("prompt").json["prompt"]
    assert comfy.count("upload") == 2 and graph["21"]["inputs"]["image"] != graph["20"]["inputs"]["image"]
    assert {graph["20"]["inputs"]["image"], graph["21"]["inputs"]["image"]} == set(comfy.input_files())
    assert [mask in r.body for r in comfy.received("upload")] == [False, True]  # the init image, then the mask
    assert "mask_ignored" not in result.params

    plain = await make_renderer(comfy).render(make_request(mask=mask, call_id="take-2/attempt-1"))
    assert plain.params["mask_ignored"] is True and comfy.count("upload") == 2  # nothing more uploaded


async def test_an_init_image_the_workflow_cannot_take_is_recorded_as_ignored(comfy: FakeComfyUI) -> None:
    result = await make_renderer(comfy).render(make_request(init_image=make_png(40, 30), strength=0.5))
    assert result.params["init_image_ignored"] is True and comfy.count("upload") == 0
    assert result.params["denoise"] == 1.0  # the strength went nowhere either


async def test_the_factory_builds_the_renderer_and_the_probe_reports_nodes(comfy: FakeComfyUI) -> None:
    assert SPEC.render is not None and SPEC.probe is not None
    config = AdapterConfig(nodes=(comfy.base_url,), auth="", timeout=5.0)
    built = load_factory(SPEC.render)(config)
    assert isinstance(built, ComfyUIRenderer) and built.nodes == (comfy.base_url,)
    assert isinstance(renderer(config), ComfyUIRenderer)

    check = load_factory(SPEC.probe)(config)
    assert await check(comfy.base_url) == {
        "reachable": True,
        "version": VERSION,
        "queue": 0,
        "running": 0,
        "error": None,
    }
    comfy.down()
    down = await probe(config)(comfy.base_url)
    comfy.up()
    assert down["reachable"] is False and down["version"] is None
    assert f"node {comfy.base_url} unreachable" in down["error"]
