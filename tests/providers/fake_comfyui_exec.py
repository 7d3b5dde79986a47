"""The fake ComfyUI's queue, executor and history (see :mod:`tests.providers.fake_comfyui`).

One executor thread runs one prompt at a time, lowest ``number`` first, and sends the events
ComfyUI sends, in its order: ``execution_start``, ``execution_cached``, per node ``executing``
(``progress`` and a binary preview per sampler step, ``executed`` for output nodes), then
``execution_success`` / ``execution_error`` / ``execution_interrupted``, the history entry, and
``executing`` with ``node: null``.
"""

from __future__ import annotations

import copy
import io
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from tests.providers.fake_base import FakeServer, Step
from tests.providers.fake_comfyui_nodes import image_plan, preview_jpeg, render_png, upstream
from tests.providers.fake_comfyui_ws import preview_frame

SAMPLERS = ("KSampler", "KSamplerAdvanced")


@dataclass
class Job:
    """One queued prompt (``item()`` is the list ``/queue`` and history show)."""

    number: float | int
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs: list[str]
    step: Step
    generation: int
    interrupted: bool = False
    held: bool = False

    def item(self) -> list[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]

    @property
    def client_id(self) -> str | None:
        return self.extra_data.get("client_id")


class _Lost(Exception):
    """The job's server "restarted" (or stopped) under it: nothing more is sent or written."""


class _Interrupted(Exception):
    """``POST /interrupt`` reached the running job."""


class ComfyExecutor(FakeServer):
    """State and executor thread behind :class:`tests.providers.fake_comfyui.FakeComfyUI`."""

    seconds_per_image: float
    previews: bool

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events: list[tuple[str | None, str, dict[str, Any]]] = []
        self._cv = threading.Condition()
        self._pending: list[Job] = []
        self._running: Job | None = None
        self._history: dict[str, dict[str, Any]] = {}
        self._files: dict[tuple[str, str, str], bytes] = {}  # (type, subfolder, filename) → bytes
        self._input_sizes: dict[str, tuple[int, int]] = {}
        self._cache: dict[str, dict[str, Any] | None] = {}  # node signature → its ui output
        self._number = 0
        self._generation = 0
        self._saved = 0
        self._paused = False
        self._executor: threading.Thread | None = None

    def _send(self, client_id: str | None, kind: str, data: dict[str, Any], binary: bytes | None = None) -> None:
        raise NotImplementedError  # pragma: no cover

    # -- executor thread -----------------------------------------------------------------------
    def _start_executor(self) -> None:
        self._executor = threading.Thread(target=self._work, name="FakeComfyUI-executor", daemon=True)
        self._executor.start()

    def _join_executor(self) -> None:
        if self._executor is not None:
            self._executor.join(timeout=5)
        self._executor = None

    def _work(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._stopping.is_set() or (bool(self._pending) and not self._paused))
                if self._stopping.is_set():
                    return
                job = min(self._pending, key=lambda j: j.number)
                self._pending.remove(job)
                self._running = job
            self._broadcast_status()
            try:
                self._execute(job)
            except _Lost:
                continue
            with self._cv:
                if self._running is job:
                    self._running = None
            self._broadcast_status()

    def _check(self, job: Job) -> None:
        """Raise when the job was lost or interrupted (caller holds ``_cv``)."""
        if self._stopping.is_set() or job.generation != self._generation:
            raise _Lost
        if job.interrupted:
            raise _Interrupted

    def _wait(self, job: Job, seconds: float) -> None:
        """Spend ``seconds`` of "GPU time", waking at once for an interrupt, a restart or a stop."""
        deadline = time.monotonic() + seconds
        with self._cv:
            while True:
                self._check(job)
                left = deadline - time.monotonic()
                if left <= 0 and not job.held:
                    return
                self._cv.wait(timeout=None if job.held else left)

    def _execute(self, job: Job) -> None:
        pid, cid = job.prompt_id, job.client_id
        messages: list[list[Any]] = []

        def event(kind: str, data: dict[str, Any], *, keep: bool = False) -> None:
            data = {**data, "prompt_id": pid}
            if keep:
                messages.append([kind, {**data, "timestamp": int(time.time() * 1000)}])
            self._send(cid, kind, messages[-1][1] if keep else data)

        order = list(dict.fromkeys(n for out in job.outputs for n in upstream(job.prompt, out)))
        sigs = _signatures(job.prompt, order)
        with self._cv:
            self._check_lost(job)
            cached = [nid for nid in order if sigs[nid] in self._cache]
            ui = {nid: self._cache[sigs[nid]] for nid in cached}
        event("execution_start", {}, keep=True)
        event("execution_cached", {"nodes": cached}, keep=True)
        outputs: dict[str, Any] = {}
        for nid in cached:
            if ui[nid] is not None:
                outputs[nid] = ui[nid]
                event("executed", {"node": nid, "display_node": nid, "output": ui[nid]})
        executed: list[str] = []
        current = ""
        try:
            for nid in order:
                if nid in cached:
                    continue
                current = nid
                with self._cv:
                    self._check(job)
                event("executing", {"node": nid, "display_node": nid})
                self._run_node(job, nid, executed, outputs, event)
                executed.append(nid)
        except _Interrupted:
            kind = job.prompt[current]["class_type"] if current else None
            event("execution_interrupted", {"node_id": current, "node_type": kind, "executed": executed}, keep=True)
            self._finish(job, outputs, messages, "error", {})
            return
        except _NodeError as err:
            event("execution_error", err.data | {"executed": executed}, keep=True)
            self._finish(job, outputs, messages, "error", {})
            return
        event("execution_success", {}, keep=True)
        self._finish(job, outputs, messages, "success", {sigs[n]: outputs.get(n) for n in order})

    def _run_node(self, job: Job, nid: str, executed: list[str], outputs: dict[str, Any], event: Any) -> None:
        kind = job.prompt[nid]["class_type"]
        if job.step.name == "error":
            want, _, message = (job.step.arg or "KSampler").partition(":")
            if kind == want or nid == job.outputs[-1]:
                raise _NodeError(nid, want, message or "fake execution error", job.prompt[nid].get("inputs") or {})
        plan = image_plan(job.prompt, job.outputs[0], self._input_sizes)
        per_image = float(job.step.arg or 1) if job.step.name == "slow" else self.seconds_per_image
        if kind in SAMPLERS:
            steps = int(job.prompt[nid]["inputs"].get("steps", 20))
            for i in range(steps):
                self._wait(job, per_image * plan.count / steps)
                event("progress", {"value": i + 1, "max": steps, "node": nid})
                if self.previews:
                    self._send(job.client_id, "preview", {}, binary=preview_frame(preview_jpeg(plan.seed, i)))
                if job.step.name == "hold" and i == 0:
                    with self._cv:
                        job.held = True
                    self._wait(job, 0)  # until release(), an interrupt or a restart
        elif kind == "SaveImage":
            if not any(job.prompt[n]["class_type"] in SAMPLERS for n in upstream(job.prompt, nid)):
                self._wait(job, per_image * plan.count)  # a model-free graph spends its time here
            outputs[nid] = {"images": self._save(job, nid)}
            event("executed", {"node": nid, "display_node": nid, "output": outputs[nid]})

    def _save(self, job: Job, nid: str) -> list[dict[str, str]]:
        plan = image_plan(job.prompt, nid, self._input_sizes)
        prefix = str(job.prompt[nid]["inputs"].get("filename_prefix", "ComfyUI"))
        subfolder, _, base = prefix.rpartition("/")
        images = []
        for i in range(plan.count):
            data = render_png(plan.width, plan.height, plan.seed + i)
            with self._cv:
                self._check(job)
                self._saved += 1
                name = f"{base}_{self._saved:05}_.png"
                self._files[("output", subfolder, name)] = data
            images.append({"filename": name, "subfolder": subfolder, "type": "output"})
        return images

    def _finish(
        self, job: Job, outputs: dict[str, Any], messages: list[list[Any]], status: str, cache: dict[str, Any]
    ) -> None:
        with self._cv:
            self._check_lost(job)
            self._history[job.prompt_id] = {
                "prompt": job.item(),
                "outputs": outputs,
                "status": {"status_str": status, "completed": status == "success", "messages": messages},
                "meta": {n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n} for n in outputs},
            }
            if status == "success":
                self._cache = cache
            self._running = None
        self._send(job.client_id, "executing", {"node": None, "display_node": None, "prompt_id": job.prompt_id})

    def _check_lost(self, job: Job) -> None:
        if self._stopping.is_set() or job.generation != self._generation:
            raise _Lost

    # -- queue and history (callers: the HTTP routes and tests) --------------------------------
    def _enqueue(
        self,
        prompt_id: str,
        prompt: dict[str, Any],
        extra: dict[str, Any],
        outputs: list[str],
        step: Step,
        number: Any,
        front: bool,
    ) -> Job:
        with self._cv:
            if number is None:  # ComfyUI's own counter is an int; a client-given number a float
                number = -self._number if front else self._number
                self._number += 1
            else:
                number = float(number)
            job = Job(number, prompt_id, copy.deepcopy(prompt), extra, outputs, step, self._generation)
            self._pending.append(job)
            self._cv.notify_all()
        return job

    def _queue_remaining(self) -> int:
        with self._cv:
            return len(self._pending) + (self._running is not None)

    def _broadcast_status(self) -> None:
        self._send(None, "status", {"status": {"exec_info": {"queue_remaining": self._queue_remaining()}}})

    def queue_snapshot(self) -> dict[str, list[list[Any]]]:
        """``GET /queue``: the running item and the pending ones (in ``number`` order)."""
        with self._cv:
            running = [self._running.item()] if self._running is not None else []
            pending = [j.item() for j in sorted(self._pending, key=lambda j: j.number)]
        return copy.deepcopy({"queue_running": running, "queue_pending": pending})

    def _clear_pending(self) -> None:
        with self._cv:
            self._pending.clear()

    def _delete_pending(self, prompt_id: str) -> None:
        """Remove one pending item with this id, as ComfyUI's delete does per listed id."""
        with self._cv:
            for job in sorted(self._pending, key=lambda j: j.number):
                if job.prompt_id == prompt_id:
                    self._pending.remove(job)
                    return

    def interrupt(self, prompt_id: str | None = None) -> None:
        """Stop the running job (only if it is ``prompt_id``, when given), like ``POST /interrupt``."""
        with self._cv:
            job = self._running
            if job is not None and prompt_id in (None, job.prompt_id):
                job.interrupted = True
                self._cv.notify_all()

    def history(self, prompt_id: str | None = None, max_items: int | None = None) -> dict[str, Any]:
        """``GET /history[/{id}]``: ``{}`` for an id not (or no longer) known."""
        with self._cv:
            if prompt_id is not None:
                found = self._history.get(prompt_id)
                return {prompt_id: copy.deepcopy(found)} if found is not None else {}
            keys = list(self._history)[-max_items:] if max_items else list(self._history)
            return {k: copy.deepcopy(self._history[k]) for k in keys}

    def _edit_history(self, clear: bool, delete: list[str]) -> None:
        with self._cv:
            if clear:
                self._history.clear()
            for prompt_id in delete:
                self._history.pop(prompt_id, None)

    def input_files(self) -> list[str]:
        """Names ``LoadImage`` accepts (uploaded to ``type=input``, any subfolder as ``sub/name``)."""
        with self._cv:
            return [f"{sub}/{name}" if sub else name for kind, sub, name in self._files if kind == "input"]

    def _store_upload(self, kind: str, subfolder: str, name: str, data: bytes, *, overwrite: bool) -> str:
        with self._cv:
            stem, dot, ext = name.rpartition(".")
            stem, ext = (stem, dot + ext) if dot else (name, "")
            n = 1
            while not overwrite and self._files.get((kind, subfolder, name), data) != data:
                name = f"{stem} ({n}){ext}"
                n += 1
            self._files[(kind, subfolder, name)] = data
            if kind == "input":
                self._input_sizes[f"{subfolder}/{name}" if subfolder else name] = _png_size(data)
            return name

    def _forget(self) -> None:
        with self._cv:
            self._generation += 1
            self._pending.clear()
            self._running = None
            self._history.clear()
            self._cache.clear()
            self._number = 0
            self._cv.notify_all()

    def pause(self) -> None:
        """Start no new job (submitted ones stay pending) until :meth:`resume`."""
        with self._cv:
            self._paused = True

    def resume(self) -> None:
        with self._cv:
            self._paused = False
            self._cv.notify_all()

    def release(self) -> None:
        """Let a job held by a ``hold`` step finish."""
        with self._cv:
            if self._running is not None:
                self._running.held = False
            self._cv.notify_all()


class _NodeError(Exception):
    """A scripted ``execution_error``; ``data`` is the event body."""

    def __init__(self, nid: str, node_type: str, message: str, inputs: dict[str, Any]) -> None:
        super().__init__(message)
        self.data = {
            "node_id": nid,
            "node_type": node_type,
            "exception_message": message,
            "exception_type": "RuntimeError",
            "traceback": ['  File "execution.py", line 1, in execute\n'],
            "current_inputs": {k: [v] for k, v in inputs.items() if not isinstance(v, list)},
            "current_outputs": {},
        }


def _signatures(prompt: dict[str, Any], order: list[str]) -> dict[str, str]:
    """A key per node that changes when the node or anything upstream changes (ComfyUI's cache key)."""
    sigs: dict[str, str] = {}
    for nid in order:  # dependencies come first
        inputs = prompt[nid].get("inputs") or {}
        resolved = {k: ["link", sigs.get(str(v[0])), v[1]] if isinstance(v, list) else v for k, v in inputs.items()}
        sigs[nid] = json.dumps([nid, prompt[nid]["class_type"], resolved], sort_keys=True)
    return sigs


def _png_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except UnidentifiedImageError:
        return (64, 64)  # not an image: ComfyUI would fail at LoadImage; the fake keeps a size
