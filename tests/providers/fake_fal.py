"""Fake fal queue API (see :mod:`tests.providers.fakes`)."""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.providers.fake_base import (
    BAD_IMAGE,
    FakeServer,
    Recorded,
    Reply,
    Step,
    image_size,
    make_png,
)
from tests.providers.model_schemas import FAL_SCHEMAS, FAL_UPSCALERS, fal_error, violations

_REQUEST = re.compile(r"^/(?P<owner>[^/]+)/(?P<alias>[^/]+)/requests/(?P<id>[^/]+)(?P<rest>/status|/cancel)?$")
_FILE = re.compile(r"^/files/(?P<name>[^/]+)$")

DEFAULT_SEED = 987654321
"""Seed the fake reports when the arguments have none (the real service picks one)."""

UPSCALE_FACTORS = ("scale", "upscale_factor")
"""Factor argument of the upscale apps: ``fal-ai/esrgan`` and ``fal-ai/clarity-upscaler``."""


def upscale_factor(args: dict[str, Any]) -> int | None:
    """The factor of an upscale submit, or ``None`` when ``args`` are not an upscale."""
    for name in UPSCALE_FACTORS:
        if name in args:
            return int(args[name])
    return None


def _decode_image_url(args: dict[str, Any]) -> bytes:
    return base64.b64decode(str(args.get("image_url", "")).partition(",")[2])


@dataclass
class FakeRequest:
    """Server-side state of one queued request."""

    id: str
    endpoint: str
    arguments: dict[str, Any]
    plan: list[str]  # statuses before COMPLETED
    result: Reply | None = None
    polls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class FakeFal(FakeServer):
    """Speaks fal's queue API.

    Routes: ``"submit"`` (``POST /{endpoint}``), ``"status"``
    (``GET /{owner}/{alias}/requests/{id}/status``), ``"result"``
    (``GET /{owner}/{alias}/requests/{id}``), ``"cancel"``, ``"download"`` (``GET /files/...``).
    Ops: ``"render"``, and ``"upscale"`` for submits to the upscalers (``fal-ai/esrgan``,
    ``fal-ai/clarity-upscaler``).

    Arguments are checked against :data:`tests.providers.model_schemas.FAL_SCHEMAS` the way fal
    does it: the queue accepts the submit, the request completes, and the result fetch answers
    422 ``{"detail": [{"loc": ["body", field], "msg", "type", ...}]}`` for an unknown field, a
    value outside an enum or range, or a missing required argument. An endpoint not in that
    table is a 404 at submit.

    Steps (applied to a submit): ``ok`` (one IN_QUEUE and one IN_PROGRESS poll, then
    COMPLETED), ``queued:N`` (N IN_QUEUE polls first), ``<status>[:retry_after]`` (the submit
    fails, with ``Retry-After`` for 429), ``slow:S``, ``nsfw`` (``has_nsfw_concepts: [true]``),
    ``badimage``, ``fail:<status>`` (the result fetch fails with that status).

    Images are data URIs by default; ``output_mode = "url"`` serves them from ``/files``.
    Render results honour ``image_size`` ``{width, height}``; image-to-image renders (an
    ``image_url`` and no factor, as ``fal-ai/flux/dev/image-to-image`` and the Fill endpoint
    ``fal-ai/flux-pro/v1/fill`` take) keep the input image's size; upscale results are the input size times the factor. The reported seed is
    the one sent, else :data:`DEFAULT_SEED`.
    """

    ops = ("render", "upscale")
    provider = "fal"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jobs: dict[str, FakeRequest] = {}
        self.files: dict[str, bytes] = {}
        self.output_mode = "data"

    def route_name(self, method: str, path: str) -> str:
        if _FILE.match(path):
            return "download"
        match = _REQUEST.match(path)
        if match:
            return {"/status": "status", "/cancel": "cancel"}.get(match["rest"] or "", "result")
        return "submit" if method == "POST" else "unknown"

    def add_request(
        self, *, endpoint: str = "fal-ai/flux/schnell", queued: int = 1, arguments: dict[str, Any] | None = None
    ) -> str:
        """Queue a request out of band (an earlier attempt's job); return its id."""
        job = FakeRequest(
            self.new_id("req-"), endpoint, dict(arguments or {"prompt": "resumed"}), ["IN_QUEUE"] * queued
        )
        job.result = self._result(job, Step("ok"))
        self.jobs[job.id] = job
        return job.id

    def _image(self, data: bytes, job: FakeRequest) -> dict[str, Any]:
        if self.output_mode == "url":
            name = f"{job.id}-{len(self.files)}.png"
            self.files[name] = data
            url = self.url(f"/files/{name}")
        else:
            url = "data:image/png;base64," + base64.b64encode(data).decode()
        try:
            w, h = image_size(data)
        except OSError:  # BAD_IMAGE: Pillow cannot identify it
            w, h = 0, 0
        return {"url": url, "width": w, "height": h, "content_type": "image/png"}

    def _result(self, job: FakeRequest, step: Step) -> Reply:
        args = job.arguments
        if step.name == "fail":
            status = int(step.arg or 500)
            return Reply(status, {"detail": f"fake failure {status}"})
        factor = upscale_factor(args)
        if factor is not None:
            w, h = image_size(_decode_image_url(args))
            data = BAD_IMAGE if step.name == "badimage" else make_png(w * factor, h * factor)
            return Reply(200, {"image": self._image(data, job)})
        size = args.get("image_size")
        if "image_url" in args:
            w, h = image_size(_decode_image_url(args))
        elif isinstance(size, dict):
            w, h = size["width"], size["height"]
        else:
            w, h = self.image_size
        seed = args.get("seed", DEFAULT_SEED)
        data = BAD_IMAGE if step.name == "badimage" else make_png(w, h, seed=int(seed))
        return Reply(
            200,
            {
                "images": [self._image(data, job)],
                "seed": seed,
                "has_nsfw_concepts": [step.name == "nsfw"],
                "prompt": args.get("prompt"),
                "timings": {"inference": 0.1},
            },
        )

    def route(self, method: str, path: str, recorded: Recorded) -> Reply:
        name = recorded.route
        if name == "download":
            data = self.files.get(_FILE.match(path)["name"])  # type: ignore[index]  # the route only matches paths _FILE matches
            return Reply(200, data, "image/png") if data is not None else Reply(404, {"detail": "gone"})
        if name == "submit":
            return self._submit(path, recorded)
        match = _REQUEST.match(path)
        job = self.jobs.get(match["id"]) if match else None
        if job is None:
            return Reply(404, {"detail": "Request not found"})
        base = self.url(f"/{match['owner']}/{match['alias']}/requests/{job.id}")  # type: ignore[index]  # the route only matches paths the pattern matches
        with job.lock:
            if name == "cancel":
                return Reply(202, {"status": "CANCELLATION_REQUESTED"})
            if name == "result":
                return job.result or Reply(400, {"detail": "Request is still in progress"})
            job.polls += 1
            status = job.plan.pop(0) if job.plan else "COMPLETED"
        if status == "IN_QUEUE":
            return Reply(202, {"status": "IN_QUEUE", "queue_position": 0, "response_url": base})
        if status == "IN_PROGRESS":
            return Reply(202, {"status": "IN_PROGRESS", "logs": [], "response_url": base})
        return Reply(200, {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 0.1}, "response_url": base})

    def _submit(self, path: str, recorded: Recorded) -> Reply:
        args = recorded.json or {}
        parts = path.strip("/").split("/")
        endpoint = "/".join(parts)
        step = recorded.step = self.next_step("upscale" if endpoint in FAL_UPSCALERS else "render")
        error = self.error_reply(step, recorded)
        if error:
            return error
        self.maybe_slow(step)
        schema = FAL_SCHEMAS.get(endpoint)
        if schema is None:
            return Reply(404, {"detail": f"Application '{endpoint}' not found"})
        plan = ["IN_QUEUE", "IN_PROGRESS"] if step.name != "queued" else ["IN_QUEUE"] * int(step.arg or 3)
        job = FakeRequest(self.new_id("req-"), endpoint, args, plan)
        refused = violations(schema, args)
        # The runner validates, so the refusal is what the result fetch returns.
        job.result = Reply(422, fal_error(refused, args)) if refused else self._result(job, step)
        self.jobs[job.id] = job
        base = self.url(f"/{parts[0]}/{parts[1]}/requests/{job.id}")
        return Reply(
            200,
            {
                "request_id": job.id,
                "response_url": base,
                "status_url": base + "/status",
                "cancel_url": base + "/cancel",
                "queue_position": 0,
            },
        )
