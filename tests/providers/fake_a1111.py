"""Fake AUTOMATIC1111 / Forge web API (``--api``) for the ``a1111`` adapter (see :mod:`tests.providers.fakes`).

Server mechanics here; the wire format (schemas, validation, infotexts, images) is in
:mod:`tests.providers.a1111_wire`. It follows ``/work/shared/SELF_HOSTED.md`` and A1111's ``modules/api``:
synchronous calls behind one global lock, ``info`` as a JSON *string*, infotexts in PNG ``parameters`` chunks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from tests.providers.a1111_wire import (
    EXTRAS,
    SAMPLERS,
    SCHEMAS,
    UPSCALERS,
    a1111_error,
    decode_image,
    infotext,
    png_b64,
    render_png,
    validate,
)
from tests.providers.fake_base import FakeServer, Recorded, Reply, Step, _Handler, _Server

_ROUTES = {
    ("POST", "/sdapi/v1/txt2img"): "txt2img", ("POST", "/sdapi/v1/img2img"): "img2img",
    ("POST", "/sdapi/v1/extra-single-image"): "extras", ("GET", "/sdapi/v1/progress"): "progress",
    ("GET", "/sdapi/v1/sd-models"): "models", ("GET", "/sdapi/v1/samplers"): "samplers",
    ("GET", "/sdapi/v1/upscalers"): "upscalers",
}  # fmt: skip
DROPPED = Reply(0)
"""Sentinel reply: close the connection without answering (a crash mid-request)."""


class _Handler1111(_Handler):
    """The base handler, except that a :data:`DROPPED` reply closes the socket unanswered."""

    def send_response(self, code: int, message: str | None = None) -> None:
        if code == DROPPED.status:
            # the base handler treats an OSError while answering as a gone client: nothing is sent
            raise ConnectionAbortedError("fake drops the connection")
        super().send_response(code, message)


class FakeA1111(FakeServer):
    """Speaks AUTOMATIC1111's ``/sdapi/v1`` API (Forge and SD.Next answer the same).

    Routes: ``"txt2img"``, ``"img2img"``, ``"extras"`` (``POST /sdapi/v1/extra-single-image``),
    ``"progress"``, ``"models"`` (``sd-models``), ``"samplers"``, ``"upscalers"``.
    Ops: ``"render"`` (txt2img and img2img) and ``"upscale"`` (extras).

    Steps: ``ok``; ``<status>[:message]`` (answered at once with A1111's ``{error, detail, body,
    errors}`` body); ``slow:S`` (renders for S seconds instead of :attr:`render_seconds`);
    ``hold`` (renders until :meth:`release`, holding the global lock); ``drop`` (renders, then
    closes the connection without an answer: the work was done, the client has no handle).

    Like the real server, every generating call holds one global lock for its render time
    (:attr:`render_seconds`), so a second call waits; ``GET progress`` answers meanwhile. A seed of
    -1 is drawn (from ``random.Random(seed)``: reproducible runs) and reported in ``info``. Refused:
    a field of the wrong type or denoising_strength / upscaling_resize out of range (422,
    pydantic's ``{"detail": [...]}``), an unknown sampler or checkpoint (404), an init image or
    mask that is not base64 image data (500 ``Invalid encoded image``), an unknown upscaler (500).
    Stricter than the real one on purpose: with ``strict`` (default) an unknown field is a 422
    (``extra fields not permitted``); the real server silently ignores it, which would hide an
    adapter's misspelt field. The real one may also ignore an unknown checkpoint in
    ``override_settings`` and keep its current model; the fake says 404 so tests notice.

    Attributes:
        auth: ``(user, password)`` to require HTTP basic auth (``--api-auth``); None = open.
        render_seconds: How long each generating call holds the lock.
        checkpoints: Checkpoint name → short hash; the first is loaded at start.
        current_model: The loaded checkpoint (changed by ``override_settings`` only when
            ``override_settings_restore_afterwards`` is false, as in A1111).
        renders: Calls that ran to the end on the "GPU" (``drop`` ones included, calls cut by
            :meth:`down` not).
        max_concurrent: Most generating calls ever inside the lock at once (1 unless broken).
        waiting: Calls currently waiting for the lock.
        log: ``"start N"`` then ``"end N"`` (or ``"cut N"``) per generating call, N counting from 1.
    """

    ops = ("render", "upscale")
    provider = "a1111"

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        render_seconds: float = 0.0,
        checkpoints: dict[str, str] | None = None,
        seed: int = 1234,
        strict: bool = True,
    ) -> None:
        super().__init__()
        self.auth = auth
        self.render_seconds = render_seconds
        self.checkpoints = dict(checkpoints or {"sdxl": "31e35c80fc", "dreamshaper_8": "879db523c3"})
        self.current_model = next(iter(self.checkpoints))
        self.strict = strict
        self.renders = self.max_concurrent = self.waiting = self._active = self._calls = 0
        self.log: list[str] = []
        self._gpu = threading.Lock()  # A1111's queue_lock
        self._state = threading.Condition()
        self._random = random.Random(seed)
        self._released = threading.Event()
        self._job: dict[str, Any] | None = None
        self._port = 0

    # -- lifecycle: same port across down()/up() so an adapter's URL stays valid ---------------
    def start(self) -> FakeA1111:
        """Listen on 127.0.0.1 (a free port the first time, the same port after :meth:`down`)."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._port), _Handler1111)
        self._server.fake = self
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeA1111-server", daemon=True
        )
        self._thread.start()
        return self

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, valid while down too."""
        assert self._port, "fake never started"
        return f"http://127.0.0.1:{self._port}"

    def down(self) -> None:
        """Stop listening (connections are refused) until :meth:`up`; calls in progress are cut."""
        self.stop()

    def up(self) -> FakeA1111:
        """Listen again on the same port, like a restarted web UI."""
        return self.start()

    # -- scripting -------------------------------------------------------------------------------
    def script(self, steps: Iterable[str | Step], op: str | None = None) -> None:
        """Queue steps (see the class docstring); a ``hold`` re-arms :meth:`release`."""
        parsed = [Step.parse(s) for s in steps]
        if any(s.name == "hold" for s in parsed):
            self._released.clear()
        super().script(parsed, op)

    def release(self) -> None:
        """Let every ``hold`` call finish its render."""
        self._released.set()

    @contextmanager
    def busy(self, steps: int = 20) -> Iterator[None]:
        """Hold the global lock as a web UI user rendering would: API calls wait, progress shows it."""
        self._gpu.acquire()
        self._begin("txt2img", steps, 0.0, count=False)
        try:
            yield
        finally:
            self._end(count=False)
            self._gpu.release()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` (checked whenever the fake's state changes) or ``timeout``."""
        with self._state:
            return self._state.wait_for(predicate, timeout)

    # -- routing ---------------------------------------------------------------------------------
    def route_name(self, method: str, path: str) -> str:
        return _ROUTES.get((method, path), "unknown")

    def error_reply(self, step: Step, recorded: Recorded) -> Reply | None:
        status = step.status
        if status is None:
            return None
        return a1111_error(status, errors=step.arg or f"fake {status}", error="RuntimeError")

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        if self.auth and not self._authorized(recorded.headers):
            reply = a1111_error(401, "Incorrect username or password")
            return Reply(401, reply.body, headers={"WWW-Authenticate": "Basic"})
        name = recorded.route
        if name == "unknown":
            return Reply(404, {"detail": "Not Found"})
        if name in ("progress", "models", "samplers", "upscalers"):
            return Reply(200, getattr(self, f"_list_{name}")())
        body = recorded.json
        errors = validate(body, SCHEMAS[name])
        errors = [e for e in errors if self.strict or e["type"] != "value_error.extra"]
        if errors:
            return Reply(422, {"detail": errors})
        prepared = self._prepare_extras(body) if name == "extras" else self._prepare_images(name, body)
        if isinstance(prepared, Reply):
            return prepared
        step = recorded.step = self.next_step("upscale" if name == "extras" else "render")
        error = self.error_reply(step, recorded)
        return error or self._locked(name, prepared, step)

    def _authorized(self, headers: dict[str, str]) -> bool:
        assert self.auth is not None
        expected = base64.b64encode(":".join(self.auth).encode()).decode()
        return headers.get("authorization", "") == f"Basic {expected}"

    def _prepare_images(self, kind: str, body: dict[str, Any]) -> dict[str, Any] | Reply:
        p = SCHEMAS[kind] | body
        sampler = p["sampler_name"] or p["sampler_index"]
        p["sampler_name"] = next((n for n, al in SAMPLERS.items() if sampler in (n, *al)), None)
        if p["sampler_name"] is None:
            return a1111_error(404, "Sampler not found")
        wanted = (p["override_settings"] or {}).get("sd_model_checkpoint")
        model = self.current_model if wanted is None else self._checkpoint(str(wanted))
        if model is None:
            return a1111_error(404, f"Checkpoint not found: {wanted}")
        p["_model"], p["_init"], p["_mask"] = model, None, None
        if kind == "img2img":
            if not p["init_images"]:
                return a1111_error(404, "Init image not found")
            p["_init"] = decode_image(str(p["init_images"][0]))
            p["_mask"] = decode_image(str(p["mask"])) if p["mask"] else None
            if p["_init"] is None or (p["mask"] and p["_mask"] is None):
                return a1111_error(500, "Invalid encoded image")
        return p

    def _prepare_extras(self, body: dict[str, Any]) -> dict[str, Any] | Reply:
        p = EXTRAS | body
        if p["upscaler_1"] not in UPSCALERS:
            return a1111_error(500, errors=f"could not find upscaler named {p['upscaler_1']}", error="AssertionError")
        p["_image"] = decode_image(str(p["image"]))
        return a1111_error(500, "Invalid encoded image") if p["_image"] is None else p

    def _checkpoint(self, wanted: str) -> str | None:
        """A1111's closest match: the title, the name with or without extension, or the hash."""
        for name, short in self.checkpoints.items():
            if wanted in (name, f"{name}.safetensors", f"{name}.safetensors [{short}]", short):
                return name
        return None

    # -- the "GPU" -------------------------------------------------------------------------------
    def _locked(self, kind: str, p: dict[str, Any], step: Step) -> Reply:
        """Wait for the global lock, render, answer (or drop the connection)."""
        with self._state:
            self.waiting += 1
            self._state.notify_all()
        while not self._gpu.acquire(timeout=0.05):
            if self._stopping.is_set():  # the server is going away under a waiting call
                with self._state:
                    self.waiting -= 1
                return DROPPED
        cut = True
        try:
            with self._state:
                self.waiting -= 1
            seconds = float(step.arg or 1.0) if step.name == "slow" else self.render_seconds
            self._begin(kind, int(p.get("steps", 1)), seconds)
            if step.name == "hold":
                while not self._released.wait(0.05) and not self._stopping.is_set():
                    pass
            else:
                self.sleep(seconds)
            if self._stopping.is_set():  # went down mid-render: no image, no answer
                return DROPPED
            body = self._upscaled(p) if kind == "extras" else self._images(kind, p)
            cut = False
        finally:
            self._end(done=not cut)
            self._gpu.release()
        return DROPPED if step.name == "drop" else Reply(200, body)

    def _begin(self, kind: str, steps: int, seconds: float, *, count: bool = True) -> None:
        with self._state:
            if count:
                self._calls += 1
                self._active += 1
                self.max_concurrent = max(self.max_concurrent, self._active)
                self.log.append(f"start {self._calls}")
            self._job = {"kind": kind, "steps": steps, "seconds": seconds, "t0": time.monotonic(), "n": self._calls}
            self._state.notify_all()

    def _end(self, *, count: bool = True, done: bool = True) -> None:
        with self._state:
            if count and self._job is not None:
                self._active -= 1
                self.renders += done
                self.log.append(f"{'end' if done else 'cut'} {self._job['n']}")
            self._job = None
            self._state.notify_all()

    def _images(self, kind: str, p: dict[str, Any]) -> dict[str, Any]:
        model, init, mask = p.pop("_model"), p.pop("_init"), p.pop("_mask")
        with self._state:
            seed = p["seed"] if p["seed"] != -1 else self._random.randrange(4294967294)
            subseed = p["subseed"] if p["subseed"] != -1 else self._random.randrange(4294967294)
        if p["override_settings"] and not p["override_settings_restore_afterwards"]:
            self.current_model = model
        count = p["batch_size"] * p["n_iter"]
        seeds = [seed + i for i in range(count)]
        texts = [infotext(p, s, model, self.checkpoints[model]) for s in seeds]
        images = [base64.b64encode(render_png(p, s, t, init, mask)).decode() for s, t in zip(seeds, texts, strict=True)]
        info = {
            "prompt": p["prompt"], "all_prompts": [p["prompt"]] * count, "negative_prompt": p["negative_prompt"],
            "all_negative_prompts": [p["negative_prompt"]] * count, "seed": seed, "all_seeds": seeds,
            "subseed": subseed, "all_subseeds": [subseed + i for i in range(count)],
            "subseed_strength": p["subseed_strength"], "width": p["width"], "height": p["height"],
            "sampler_name": p["sampler_name"], "cfg_scale": p["cfg_scale"], "steps": p["steps"],
            "batch_size": p["batch_size"], "restore_faces": False, "sd_model_name": model,
            "sd_model_hash": self.checkpoints[model], "sd_vae_name": None, "sd_vae_hash": None,
            "denoising_strength": p["denoising_strength"], "extra_generation_params": {},
            "index_of_first_image": 0, "infotexts": texts, "styles": p["styles"] or [],
            "job_timestamp": time.strftime("%Y%m%d%H%M%S"), "clip_skip": 1, "version": "v1.10.1",
        }  # fmt: skip
        if kind == "img2img" and not p["include_init_images"]:
            p["init_images"] = p["mask"] = None  # A1111 does not echo the big base64 inputs back
        return {"images": images if p["send_images"] else [], "parameters": p, "info": json.dumps(info)}

    def _upscaled(self, p: dict[str, Any]) -> dict[str, Any]:
        im: Image.Image = p.pop("_image")
        if p["resize_mode"] == 1:
            size = (p["upscaling_resize_w"], p["upscaling_resize_h"])
        else:
            size = (round(im.width * p["upscaling_resize"]), round(im.height * p["upscaling_resize"]))
        resample = Image.Resampling.NEAREST if p["upscaler_1"] == "Nearest" else Image.Resampling.LANCZOS
        info = f"Postprocess upscale by: {p['upscaling_resize']:g}, Postprocess upscaler: {p['upscaler_1']}"
        return {"html_info": f"<p>{info}</p>", "image": png_b64(im.resize(size, resample))}

    # -- listings --------------------------------------------------------------------------------
    def _list_progress(self) -> dict[str, Any]:
        with self._state:
            job = dict(self._job) if self._job else None
        if job is None:
            state = {"job": "", "job_count": 0, "job_no": 0, "sampling_step": 0, "sampling_steps": 0}
            fraction = eta = 0.0
        else:
            elapsed = time.monotonic() - job["t0"]
            fraction = min(0.99, elapsed / job["seconds"]) if job["seconds"] else 0.0
            eta = max(0.0, job["seconds"] - elapsed)
            state = {"job": job["kind"], "job_count": 1, "job_no": 0,
                     "sampling_step": int(fraction * job["steps"]), "sampling_steps": job["steps"]}  # fmt: skip
        flags = {"skipped": False, "interrupted": False, "stopping_generation": False}
        state |= flags | {"job_timestamp": time.strftime("%Y%m%d%H%M%S")}
        return {"progress": fraction, "eta_relative": eta, "state": state, "current_image": None, "textinfo": None}

    def _list_models(self) -> list[dict[str, Any]]:
        return [
            {
                "title": f"{name}.safetensors [{short}]",
                "model_name": name,
                "hash": short,
                "sha256": hashlib.sha256(name.encode()).hexdigest(),
                "config": None,
                "filename": f"/models/Stable-diffusion/{name}.safetensors",
            }
            for name, short in self.checkpoints.items()
        ]

    def _list_samplers(self) -> list[dict[str, Any]]:
        return [{"name": name, "aliases": aliases, "options": {}} for name, aliases in SAMPLERS.items()]

    def _list_upscalers(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "model_name": None, "model_path": None, "model_url": None, "scale": scale}
            for name, scale in UPSCALERS.items()
        ]
