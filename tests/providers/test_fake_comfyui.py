"""The fake ComfyUI speaks ComfyUI's protocol (HTTP + websocket) and refuses what ComfyUI refuses.

Plain httpx and a plain websocket client only: these tests pin the fake that the ``comfyui``
adapter's tests will rely on (issue 14), against the wire format in ``SELF_HOSTED.md``.
"""

from __future__ import annotations

import copy
import io
import json
import struct
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.providers.fake_comfyui import VERSION, FakeComfyUI

WORKFLOW: dict[str, Any] = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 96, "height": 64, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 42,
            "steps": 3,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "studio/shot", "images": ["8", 0]}},
}
UI_FORMAT = {
    "last_node_id": 9,
    "last_link_id": 9,
    "nodes": [{"id": 3, "type": "KSampler", "widgets_values": [42, "fixed", 3, 7, "euler", "normal", 1]}],
    "links": [[1, 4, 0, 3, 0, "MODEL"]],
    "version": 0.4,
}


def workflow(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`WORKFLOW` with ``{"node.input": value}`` changes (dots spelled ``__``)."""
    wf = copy.deepcopy(WORKFLOW)
    for key, value in changes.items():
        node, name = key.split("__")
        wf[node.lstrip("n")]["inputs"][name] = value
    return wf


@pytest.fixture
def comfy() -> Iterator[FakeComfyUI]:
    with FakeComfyUI(seconds_per_image=0.01) as fake:
        yield fake
        assert fake.crashes == []


@pytest.fixture
def ws(comfy: FakeComfyUI) -> Iterator[ClientConnection]:
    with connect(comfy.ws_url + "?clientId=me", open_timeout=5) as conn:
        hello = json.loads(conn.recv(timeout=5))
        assert hello == {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "me"}}
        yield conn


def submit(comfy: FakeComfyUI, prompt_id: str, wf: dict[str, Any] | None = None) -> httpx.Response:
    body = {"prompt": wf or WORKFLOW, "client_id": "me", "prompt_id": prompt_id}
    return httpx.post(comfy.url("/prompt"), json=body, timeout=5)


def until(ws: ClientConnection, kind: str, prompt_id: str | None = None, node: Any = "any") -> list[Any]:
    """Messages (dicts, or bytes for previews) up to and including the first ``kind`` for ``prompt_id``."""
    seen: list[Any] = []
    while True:
        raw = ws.recv(timeout=5)
        msg = raw if isinstance(raw, bytes) else json.loads(raw)
        seen.append(msg)
        if isinstance(msg, dict) and msg["type"] == kind:
            data = msg["data"]
            if (prompt_id is None or data.get("prompt_id") == prompt_id) and (node == "any" or data["node"] == node):
                return seen


def finished(ws: ClientConnection, prompt_id: str) -> list[Any]:
    """Messages until ``executing`` with ``node: null`` (sent once the history entry is written)."""
    return until(ws, "executing", prompt_id, node=None)


def types(messages: list[Any]) -> list[str]:
    return [
        "preview" if isinstance(m, bytes) else m["type"]
        for m in messages
        if not isinstance(m, dict) or m["type"] != "status"
    ]


def test_success_events_in_order_history_and_bytes(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    reply = submit(comfy, "take-1")
    assert reply.status_code == 200
    assert reply.json() == {"prompt_id": "take-1", "number": 0, "node_errors": {}}
    seen = finished(ws, "take-1")
    assert types(seen) == [
        "execution_start",
        "execution_cached",
        *["executing"] * 5,  # loader, both prompts, latent, sampler
        *["progress", "preview"] * 3,
        "executing",
        "executing",
        "executed",
        "execution_success",
        "executing",
    ]
    progress = [m["data"] for m in seen if isinstance(m, dict) and m["type"] == "progress"]
    assert [(p["value"], p["max"], p["node"]) for p in progress] == [(1, 3, "3"), (2, 3, "3"), (3, 3, "3")]
    frame = next(m for m in seen if isinstance(m, bytes))
    assert struct.unpack(">II", frame[:8]) == (1, 1) and Image.open(io.BytesIO(frame[8:])).format == "JPEG"

    entry = httpx.get(comfy.url("/history/take-1")).json()["take-1"]
    assert entry["status"]["status_str"] == "success" and entry["status"]["completed"] is True
    assert [m[0] for m in entry["status"]["messages"]] == ["execution_start", "execution_cached", "execution_success"]
    assert entry["prompt"][1] == "take-1" and entry["prompt"][4] == ["9"]
    image = entry["outputs"]["9"]["images"][0]
    assert image == {"filename": "shot_00001_.png", "subfolder": "studio", "type": "output"}
    first = httpx.get(comfy.url("/view"), params=image)
    assert first.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(first.content)).size == (96, 64)

    # Another prompt text, same seed: rendered again (not cached), same bytes; another seed differs.
    assert submit(comfy, "take-2", workflow(n6__text="a lighthouse at dusk")).status_code == 200
    finished(ws, "take-2")
    assert submit(comfy, "take-3", workflow(n3__seed=43)).status_code == 200
    finished(ws, "take-3")
    images = [
        httpx.get(comfy.url("/history/" + p)).json()[p]["outputs"]["9"]["images"][0] for p in ("take-2", "take-3")
    ]
    same, other = (httpx.get(comfy.url("/view"), params=i).content for i in images)
    assert images[0]["filename"] == "shot_00002_.png" and same == first.content and other != first.content


def test_events_go_only_to_the_submitting_client(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    with connect(comfy.ws_url + "?clientId=someone-else") as other:
        json.loads(other.recv(timeout=5))  # its own hello
        submit(comfy, "mine")
        finished(ws, "mine")
        # Broadcasts are ordered with everything else on the socket: the "queue empty" status that
        # follows the job proves nothing about the prompt reached the other client before it.
        while True:
            msg = json.loads(other.recv(timeout=5))
            assert msg["type"] == "status"
            if msg["data"]["status"]["exec_info"]["queue_remaining"] == 0:
                break
    assert {cid for cid, kind, _ in comfy.events if kind != "status"} == {"me"}


def test_ui_format_and_empty_prompts_are_refused(comfy: FakeComfyUI) -> None:
    ui = httpx.post(comfy.url("/prompt"), json={"prompt": UI_FORMAT, "client_id": "me"})
    assert ui.status_code == 400
    assert ui.json()["error"]["type"] == "missing_node_type" and "has no class_type" in ui.json()["error"]["message"]
    no_prompt = httpx.post(comfy.url("/prompt"), json={"client_id": "me"})
    assert (no_prompt.status_code, no_prompt.json()["error"]["type"]) == (400, "no_prompt")
    empty = httpx.post(comfy.url("/prompt"), json={"prompt": {}, "client_id": "me"})
    assert (empty.status_code, empty.json()["error"]["type"]) == (400, "prompt_no_outputs")
    assert comfy.submissions() == 0 and comfy.queue_snapshot() == {"queue_running": [], "queue_pending": []}


@pytest.mark.parametrize(
    ("wf", "node", "error_type", "input_name"),
    [
        (workflow(n3__steps="twenty"), "3", "invalid_input_type", "steps"),
        (workflow(n3__sampler_name="euler_max"), "3", "value_not_in_list", "sampler_name"),
        (workflow(n5__width=8), "5", "value_smaller_than_min", "width"),
        (workflow(n8__samples=["99", 0]), "8", "exception_during_inner_validation", "samples"),
        (workflow(n8__vae=["4", 0]), "8", "return_type_mismatch", "vae"),
    ],
)
def test_bad_inputs_come_back_as_node_errors(
    comfy: FakeComfyUI, wf: dict[str, Any], node: str, error_type: str, input_name: str
) -> None:
    reply = submit(comfy, "bad", wf)
    assert reply.status_code == 400
    body = reply.json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    entry = body["node_errors"][node]
    assert entry["class_type"] == wf[node]["class_type"] and entry["dependent_outputs"] == ["9"]
    assert [(e["type"], e["extra_info"]["input_name"]) for e in entry["errors"]] == [(error_type, input_name)]
    assert comfy.submissions("bad") == 0


def test_unknown_node_class_is_refused(comfy: FakeComfyUI) -> None:
    wf = workflow()
    wf["3"]["class_type"] = "KSamplerTurbo"
    body = submit(comfy, "bad", wf).json()
    assert body["error"]["type"] == "missing_node_type" and body["error"]["extra_info"]["node_id"] == "3"


def test_execution_error_then_recovery(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    comfy.fail_next("VAEDecode", "Allocation on device failed")
    submit(comfy, "boom")
    seen = finished(ws, "boom")
    error = next(m["data"] for m in seen if isinstance(m, dict) and m["type"] == "execution_error")
    assert (error["node_id"], error["node_type"]) == ("8", "VAEDecode")
    assert error["exception_message"] == "Allocation on device failed" and error["executed"][-1] == "3"
    status = httpx.get(comfy.url("/history/boom")).json()["boom"]["status"]
    assert (status["status_str"], status["completed"], status["messages"][-1][0]) == ("error", False, "execution_error")
    submit(comfy, "fine")
    assert "execution_success" in types(finished(ws, "fine"))


def test_restart_forgets_history_queue_and_the_job_in_flight(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    submit(comfy, "done-before")
    finished(ws, "done-before")
    comfy.script(["hold"])
    fresh = workflow(n3__seed=7)  # the same prompt again would come straight from the cache
    submit(comfy, "in-flight", fresh)
    until(ws, "progress", "in-flight")  # held after its first sampler step
    assert httpx.get(comfy.url("/queue")).json()["queue_running"][0][1] == "in-flight"

    comfy.restart()
    with pytest.raises(ConnectionClosed):
        until(ws, "never")  # the websocket dropped with the process
    assert httpx.get(comfy.url("/history/done-before")).json() == {}
    assert httpx.get(comfy.url("/history/in-flight")).json() == {}
    assert httpx.get(comfy.url("/queue")).json() == {"queue_running": [], "queue_pending": []}

    with connect(comfy.ws_url + "?clientId=me") as again:
        submit(comfy, "in-flight", fresh)  # the one resubmission a restart justifies
        assert types(finished(again, "in-flight"))[-2:] == ["execution_success", "executing"]
    assert comfy.submissions("in-flight") == 2 and comfy.restarts == 1


def test_same_prompt_id_twice_is_queued_twice(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    comfy.pause()
    assert submit(comfy, "twice").json()["number"] == 0
    assert submit(comfy, "twice").json()["number"] == 1
    pending = httpx.get(comfy.url("/queue")).json()["queue_pending"]
    assert [(item[0], item[1]) for item in pending] == [(0, "twice"), (1, "twice")]
    assert comfy.submissions("twice") == 2
    comfy.resume()
    finished(ws, "twice")
    second = finished(ws, "twice")  # identical prompt: every node comes from ComfyUI's cache
    cached = next(m["data"]["nodes"] for m in second if isinstance(m, dict) and m["type"] == "execution_cached")
    assert sorted(cached) == sorted(WORKFLOW) and "progress" not in types(second)


def test_delete_pending_and_interrupt_running(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    comfy.script(["hold"])
    submit(comfy, "running")
    until(ws, "progress", "running")
    submit(comfy, "waiting")
    assert [i[1] for i in httpx.get(comfy.url("/queue")).json()["queue_pending"]] == ["waiting"]
    assert httpx.post(comfy.url("/queue"), json={"delete": ["waiting"]}).status_code == 200
    assert httpx.get(comfy.url("/queue")).json()["queue_pending"] == []

    httpx.post(comfy.url("/interrupt"), json={"prompt_id": "someone-elses"})  # not running: ignored
    assert httpx.get(comfy.url("/queue")).json()["queue_running"][0][1] == "running"
    httpx.post(comfy.url("/interrupt"), json={"prompt_id": "running"})
    seen = finished(ws, "running")
    interrupted = next(m["data"] for m in seen if isinstance(m, dict) and m["type"] == "execution_interrupted")
    assert (interrupted["node_id"], interrupted["node_type"]) == ("3", "KSampler")
    status = httpx.get(comfy.url("/history/running")).json()["running"]["status"]
    assert (status["status_str"], status["completed"]) == ("error", False)
    assert httpx.get(comfy.url("/history/waiting")).json() == {} and comfy.submissions() == 2


def test_upload_and_a_model_free_graph(comfy: FakeComfyUI, ws: ClientConnection) -> None:
    png = io.BytesIO()
    Image.new("RGB", (40, 30), (1, 2, 3)).save(png, format="PNG")
    files = {"image": ("init.png", png.getvalue(), "image/png")}
    up = httpx.post(comfy.url("/upload/image"), files=files, data={"type": "input", "overwrite": "true"})
    assert up.json() == {"name": "init.png", "subfolder": "", "type": "input"}
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "init.png"}},
        "2": {
            "class_type": "ImageScale",
            "inputs": {"image": ["1", 0], "upscale_method": "lanczos", "width": 80, "height": 0, "crop": "disabled"},
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "up"}},
        "4": {"class_type": "EmptyImage", "inputs": {"width": 24, "height": 16, "batch_size": 2, "color": 255}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "blank"}},
    }
    assert submit(comfy, "cpu", graph).status_code == 200
    finished(ws, "cpu")
    outputs = httpx.get(comfy.url("/history/cpu")).json()["cpu"]["outputs"]
    sizes = {
        nid: [Image.open(io.BytesIO(httpx.get(comfy.url("/view"), params=i).content)).size for i in out["images"]]
        for nid, out in outputs.items()
    }
    assert sizes == {"3": [(80, 60)], "5": [(24, 16), (24, 16)]}
    missing = submit(comfy, "cpu2", graph | {"1": {"class_type": "LoadImage", "inputs": {"image": "nope.png"}}})
    assert missing.json()["node_errors"]["1"]["errors"][0]["type"] == "custom_validation_failed"


def test_catalog_stats_and_auth() -> None:
    with FakeComfyUI(key="secret-token") as comfy:
        assert httpx.get(comfy.url("/system_stats")).status_code == 401
        auth = {"Authorization": "Bearer secret-token"}
        stats = httpx.get(comfy.url("/system_stats"), headers=auth).json()
        assert stats["system"]["comfyui_version"] == VERSION and stats["devices"][0]["type"] == "cpu"
        catalog = httpx.get(comfy.url("/object_info"), headers=auth).json()
        assert {
            "KSampler",
            "KSamplerAdvanced",
            "CLIPTextEncode",
            "EmptyLatentImage",
            "CheckpointLoaderSimple",
            "VAEDecode",
            "SaveImage",
            "LoadImage",
            "EmptyImage",
            "ImageScale",
        } <= set(catalog)
        assert catalog["KSampler"]["input"]["required"]["seed"][0] == "INT" and catalog["SaveImage"]["output_node"]
        with pytest.raises(InvalidStatus, match="401"), connect(comfy.ws_url + "?clientId=x"):
            pass
        with connect(comfy.ws_url + "?clientId=x", additional_headers=auth) as ws:
            assert json.loads(ws.recv(timeout=5))["data"]["sid"] == "x"


def test_down_refuses_or_hangs_then_comes_back_on_the_same_port() -> None:
    before = threading.active_count()
    with FakeComfyUI() as comfy:
        url = comfy.url("/system_stats")
        comfy.down()
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
        comfy.up()
        assert httpx.get(url, timeout=2).status_code == 200
        comfy.down("hang")
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(url, timeout=0.2)
        comfy.up()
        assert httpx.get(url, timeout=2).status_code == 200
        comfy.down("hang")  # stop() must still return: hung handlers are woken
    assert threading.active_count() == before
