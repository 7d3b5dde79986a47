"""Fake Replicate predictions API (see :mod:`tests.providers.fakes`)."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.providers.fake_base import (
    BAD_IMAGE,
    FakeServer,
    Recorded,
    Reply,
    image_size,
    make_png,
)
from tests.providers.model_schemas import REPLICATE_SCHEMAS, replicate_error, violations

_MODEL_CREATE = re.compile(r"^/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions$")
_PREDICTION = re.compile(r"^/v1/predictions/(?P<id>[^/]+)$")
_CANCEL = re.compile(r"^/v1/predictions/(?P<id>[^/]+)/cancel$")
_FILE = re.compile(r"^/files/(?P<name>[^/]+)$")

DEFAULT_SEED = 4242
"""Seed the fake 'uses' (and logs) when the input has none."""

ESRGAN_MODEL = "nightmareai/real-esrgan"
"""The upscaler's model: reached by version (``POST /v1/predictions``) or by its model route."""
SINGLE_OUTPUT_MODELS = ("1.1-pro", "fill-pro", "real-esrgan")
"""Models whose output is one URL string rather than a list (their schemas say so)."""


@dataclass
class FakePrediction:
    """Server-side state of one prediction."""

    id: str
    model: str
    version: str
    input: dict[str, Any]
    plan: list[str]  # statuses the next GETs return, in order
    final: str  # status once the plan is used up
    error: str | None = None
    output: Any = None
    polls: int = 0
    held: bool = False  # stays "processing" until FakeReplicate.release()
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class FakeReplicate(FakeServer):
    """Speaks Replicate's predictions API.

    Routes: ``"create"`` (``POST /v1/models/{owner}/{name}/predictions`` and
    ``POST /v1/predictions``), ``"get"`` (``GET /v1/predictions/{id}``), ``"cancel"``,
    ``"upload"`` (``POST /v1/files``), ``"download"`` (``GET /files/{name}``).
    Ops: ``"render"``, and ``"upscale"`` for creates of :data:`ESRGAN_MODEL`.

    Steps (applied to a create): ``ok`` (one ``processing`` poll, then ``succeeded``),
    ``processing:N`` (N ``processing`` polls first), ``<status>[:retry_after]`` (the create
    itself fails), ``slow:S``, ``nsfw`` (``failed`` with an NSFW message), ``failed[:message]``,
    ``aborted``, ``canceled``, ``badimage`` (succeeded; output is garbage), ``hold`` (stays
    ``processing`` for every poll until :meth:`release`, for crash/resume tests).

    Inputs are checked against :data:`tests.providers.model_schemas.REPLICATE_SCHEMAS` at
    create, as Replicate does: an unknown field, a value outside an enum or a range, a missing
    required input is a 422 with Replicate's body (``title``, ``detail``, ``status``,
    ``invalid_fields``), and a model not in that table is a 404. A ``custom`` aspect ratio
    renders at the ``width`` x ``height`` sent; a listed ratio at ``image_size`` (the vendor
    picks the pixels).

    Outputs are data URIs by default (the real client only wraps https/data URLs); set
    ``output_mode = "url"`` to get ``{base_url}/files/...`` URLs served by the fake. Models whose
    name contains ``1.1-pro``, ``fill-pro`` or ``real-esrgan`` answer a single string instead of
    a list, like the real ones. Fill outputs (an input with a ``mask``) are the input image's
    size. Upscale outputs are the input size times ``scale``; real-esrgan is served by version
    (``POST /v1/predictions``) and by its model route alike (:data:`ESRGAN_MODEL`).

    Attributes:
        predictions: Server-side state by id.
        processing_polls: ``processing`` polls for a plain ``ok``.
    """

    ops = ("render", "upscale")
    provider = "replicate"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.predictions: dict[str, FakePrediction] = {}
        self.files: dict[str, bytes] = {}
        self.output_mode = "data"
        self.processing_polls = 1

    def route_name(self, method: str, path: str) -> str:
        if method == "POST" and (_MODEL_CREATE.match(path) or path == "/v1/predictions"):
            return "create"
        if method == "POST" and _CANCEL.match(path):
            return "cancel"
        if method == "GET" and _PREDICTION.match(path):
            return "get"
        if path == "/v1/files":
            return "upload"
        return "download" if _FILE.match(path) else "unknown"

    # -- public helpers ------------------------------------------------------------------------
    def add_prediction(
        self,
        *,
        status: str = "processing",
        polls: int = 1,
        final: str = "succeeded",
        model: str = "black-forest-labs/flux-schnell",
        input: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> str:
        """Create a prediction out of band (an earlier attempt's job); return its id."""
        pid = self.new_id("pred_")
        inp = dict(input or {"prompt": "resumed", "go_fast": False, "seed": 7})
        pred = FakePrediction(pid, model, "fakeversion0001", inp, [status] * polls, final, error)
        pred.output = self._output(pred, bad=False) if final == "succeeded" else None
        self.predictions[pid] = pred
        return pid

    def release(self, pid: str | None = None) -> None:
        """Let held predictions (all, or just ``pid``) go on to their final status."""
        for pred in list(self.predictions.values()):
            if pid is None or pred.id == pid:
                with pred.lock:
                    pred.held = False

    def creates(self) -> list[Recorded]:
        """The create-prediction POSTs received (each one a prediction someone pays for)."""
        return self.received("create")

    def polled_ids(self) -> list[str]:
        """Prediction ids of the status GETs received, in order."""
        return [m["id"] for r in self.received("get") if (m := _PREDICTION.match(r.path.split("?")[0]))]

    # -- internals -----------------------------------------------------------------------------
    def _json(self, pred: FakePrediction, status: str) -> dict[str, Any]:
        seed = pred.input.get("seed", DEFAULT_SEED)
        done = status == "succeeded"
        return {
            "id": pred.id,
            "model": pred.model,
            "version": pred.version,
            "status": status,
            "input": pred.input,
            "output": pred.output if done else None,
            "error": pred.error if status == "failed" else None,
            "logs": f"Using seed: {seed}\n" + ("100%|██████████| 4/4\n" if done else ""),
            "metrics": {"predict_time": 0.1} if done else {},
            "created_at": "2025-01-01T00:00:00Z",
            "started_at": None,
            "completed_at": None,
            "urls": {
                "get": self.url(f"/v1/predictions/{pred.id}"),
                "cancel": self.url(f"/v1/predictions/{pred.id}/cancel"),
            },
        }

    def _input_image(self, value: Any) -> bytes | None:
        if not isinstance(value, str):
            return None
        if value.startswith("data:"):
            return base64.b64decode(value.partition(",")[2])
        match = _FILE.match(value.replace(self.base_url, "", 1))
        return self.files.get(match.group("name")) if match else None

    def _output(self, pred: FakePrediction, *, bad: bool) -> Any:
        if bad:
            data = BAD_IMAGE
        elif "scale" in pred.input and (src := self._input_image(pred.input.get("image"))):
            w, h = image_size(src)
            scale = int(pred.input["scale"])
            data = make_png(w * scale, h * scale)
        elif "mask" in pred.input and (src := self._input_image(pred.input.get("image"))):
            data = make_png(*image_size(src), seed=int(pred.input.get("seed", DEFAULT_SEED)))  # Fill keeps its size
        else:
            size = self.image_size
            if pred.input.get("aspect_ratio") == "custom":
                size = (int(pred.input["width"]), int(pred.input["height"]))
            data = make_png(*size, seed=int(pred.input.get("seed", DEFAULT_SEED)))
        if self.output_mode == "url":
            name = f"{pred.id}.png"
            self.files[name] = data
            ref = self.url(f"/files/{name}")
        else:
            ref = "data:image/png;base64," + base64.b64encode(data).decode()
        return ref if any(name in pred.model for name in SINGLE_OUTPUT_MODELS) else [ref]

    def _create(self, path: str, recorded: Recorded) -> Reply:
        body = recorded.json or {}
        inp = dict(body.get("input") or {})
        match = _MODEL_CREATE.match(path)
        model = f"{match['owner']}/{match['name']}" if match else ESRGAN_MODEL
        op = "upscale" if model == ESRGAN_MODEL else "render"
        step = recorded.step = self.next_step(op)
        error = self.error_reply(step, recorded)
        if error:
            return error
        self.maybe_slow(step)
        schema = REPLICATE_SCHEMAS.get(model)
        if schema is None:
            return Reply(
                404, {"title": "Not found", "detail": "The requested resource could not be found.", "status": 404}
            )
        refused = violations(schema, inp)
        if refused:
            return Reply(422, replicate_error(refused))
        version = body.get("version") or "fakeversion0001"
        plan, final, err = ["processing"] * self.processing_polls, "succeeded", None
        if step.name == "processing":
            plan = ["processing"] * int(step.arg or 3)
        elif step.name == "nsfw":
            final, err = "failed", "NSFW content detected. Try running it again, or try a different prompt."
        elif step.name == "failed":
            final, err = "failed", step.arg or "CUDA out of memory"
        elif step.name in ("aborted", "canceled"):
            final = step.name
        pred = FakePrediction(self.new_id("pred_"), model, version, inp, plan, final, err, held=step.name == "hold")
        if final == "succeeded":
            pred.output = self._output(pred, bad=step.name == "badimage")
        self.predictions[pred.id] = pred
        return Reply(201, self._json(pred, "starting"))

    def _upload(self, recorded: Recorded) -> Reply:
        ctype = recorded.headers.get("content-type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + recorded.body
        )
        data = b""
        for part in msg.iter_parts():
            if part.get_param("name", header="content-disposition") == "content":
                data = part.get_payload(decode=True) or b""
        name = self.new_id("upload_") + ".png"
        self.files[name] = data
        return Reply(
            201,
            {
                "id": name,
                "name": name,
                "content_type": "image/png",
                "size": len(data),
                "etag": "x",
                "checksums": {},
                "metadata": {},
                "created_at": "2025-01-01T00:00:00Z",
                "expires_at": None,
                "urls": {"get": self.url(f"/files/{name}")},
            },
        )

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        name = recorded.route
        if name == "create":
            return self._create(path, recorded)
        if name == "upload":
            return self._upload(recorded)
        if name == "download":
            data = self.files.get(_FILE.match(path)["name"])  # type: ignore[index]  # the route only matches paths _FILE matches
            return Reply(200, data, "image/png") if data is not None else Reply(404, {"detail": "gone"})
        match = _PREDICTION.match(path) or _CANCEL.match(path)
        pred = self.predictions.get(match["id"]) if match else None
        if pred is None:
            return Reply(
                404, {"title": "Not found", "detail": "The requested resource could not be found.", "status": 404}
            )
        with pred.lock:
            if name == "cancel":
                pred.plan, pred.final, pred.held = [], "canceled", False
                return Reply(200, self._json(pred, "canceled"))
            pred.polls += 1
            if pred.held:
                return Reply(200, self._json(pred, "processing"))
            status = pred.plan.pop(0) if pred.plan else pred.final
        return Reply(200, self._json(pred, status))
