"""The ``comfyui`` renderer: the creator's own workflow, filled with the studio's values, run on one node.

One render call: choose the node (``request.node``, or the node a saved job id names), derive the
job's ``prompt_id`` from the call's stable id, open the job's websocket, look the id up in the node's
queue and history (so a resumed call never pays twice), report the job id with ``on_job`` *before*
submitting, submit, follow the job (:mod:`providers.comfyui.follow`), fetch the image. A node that
restarted and forgot the job gets it once more in the same call; a cancelled call takes its job off
the node.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from providers._http.errors import check_image, check_input_image, new_client
from providers.base import (
    InvalidRequest,
    JobCallback,
    Progress,
    ProgressCallback,
    ProviderError,
    RenderRequest,
    RenderResult,
    Unavailable,
)
from providers.comfyui.follow import JobEvents, JobWatch
from providers.comfyui.graph import recipe_of
from providers.comfyui.node import PROVIDER, NodeClient, public_url
from providers.comfyui.workflow import WorkflowPlan, WorkflowProblem, check_workflow, fill_workflow, workflow_sha256

log = logging.getLogger(__name__)

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "studio:comfyui:prompt_id")
"""The fixed namespace prompt ids are derived in (never change it: saved jobs would be orphaned)."""
SEED_RANGE = 2**31
"""Seeds the renderer picks itself fall in ``0 .. SEED_RANGE - 1``."""
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


def prompt_id_for(call_id: str | None) -> str:
    """The ComfyUI ``prompt_id`` of a call: derived from its stable id, random when it has none."""
    return str(uuid.uuid5(NAMESPACE, call_id) if call_id else uuid.uuid4())


def job_id_of(prompt_id: str, url: str) -> str:
    """The job id the studio saves: ``"<prompt_id>@<node url>"`` (no credentials in the URL)."""
    return f"{prompt_id}@{public_url(url)}"


def split_job_id(job_id: str) -> tuple[str, str]:
    """``(prompt_id, node url)`` of a saved job id.

    Raises:
        InvalidRequest: It is not ``"<prompt_id>@<http(s) URL>"``.
    """
    prompt_id, sep, url = job_id.partition("@")
    if not sep or not prompt_id or not url.startswith(("http://", "https://")):
        raise InvalidRequest(
            f"{PROVIDER} job id {job_id!r} is not '<prompt_id>@<node url>'", provider=PROVIDER, detail="bad job id"
        )
    return prompt_id, url


@dataclass(frozen=True)
class _Upload:
    """An image the node needs in its input folder before the job is submitted."""

    value: str  # the placeholder value it fills: "init_image" or "mask"
    data: bytes
    mime: str

    @property
    def name(self) -> str:
        """Named by its content: the same image is the same file on the node."""
        return f"{hashlib.sha256(self.data).hexdigest()}.{_EXTENSIONS.get(self.mime, 'png')}"


@dataclass
class _Call:
    """One job on one node: what to submit and whether it was submitted again."""

    node: NodeClient
    prompt_id: str
    fill: Callable[[Mapping[str, str]], dict[str, Any]]
    uploads: list[_Upload]
    resubmitted: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def job_id(self) -> str:
        return job_id_of(self.prompt_id, self.node.url)

    async def submit(self) -> None:
        """Upload the input images, then queue the filled workflow under the job's prompt id."""
        names = {upload.value: await self.node.upload(upload.data, upload.name, upload.mime) for upload in self.uploads}
        await self.node.submit(self.fill(names), self.prompt_id)

    async def resubmit(self) -> None:
        """The node lost the job (a restart): submit it again, once per call."""
        if self.resubmitted:
            raise Unavailable(
                f"{PROVIDER} node {self.node.name} lost job {self.prompt_id} twice",
                provider=PROVIDER,
                detail="job lost twice",
            )
        self.resubmitted = True
        await self.submit()

    async def cancel(self) -> None:
        """Take the job off the node (pending: deleted; running: interrupted)."""
        try:
            await self.node.cancel(self.prompt_id)
        except ProviderError as error:
            # The node cannot be reached: nothing more can be done from here. The job either runs
            # to an unused end or is gone with the node's queue.
            log.warning("could not cancel %s job %s: %s", PROVIDER, self.prompt_id, error)


class ComfyUIRenderer:
    """Renders on the creator's ComfyUI nodes with the workflow the project names.

    Args:
        nodes: The node URLs (``COMFYUI_URLS``), in settings order; the first is used when a
            request names none.
        token: Bearer token sent to every node (``COMFYUI_TOKEN``); empty for none.
        timeout: Seconds per HTTP request (and to open the websocket).
        max_wait: Seconds to wait for a job before :class:`~providers.base.Unavailable` (the job
            keeps its place; a later call with its job id resumes it).
        poll_interval: Seconds between reads of the node's queue and history while waiting.
        unreachable_grace: Seconds a node may stop answering mid-job before the call fails over.
        transport: An httpx transport for the HTTP side (tests).
    """

    name = PROVIDER

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        token: str = "",
        timeout: float = 60.0,
        max_wait: float = 3600.0,
        poll_interval: float = 2.0,
        unreachable_grace: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.nodes = tuple(url.partition("#")[0].rstrip("/") for url in nodes)
        self._token = token
        self.timeout = timeout
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self.unreachable_grace = unreachable_grace
        self._transport = transport

    def __repr__(self) -> str:  # keep the token out of reprs and tracebacks
        return f"ComfyUIRenderer(nodes={[public_url(url) for url in self.nodes]!r})"

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image with the request's workflow, or finish the job ``request.job_id`` names.

        Raises:
            InvalidRequest: No workflow, a workflow the studio cannot use, an unknown node, or a
                workflow the node refuses (``node_errors``).
            Unavailable: The node is down or hangs, the job failed on it (``execution_error``) or
                was interrupted, or it was lost twice.
            BadImage: The node's image does not decode.
        """
        template, source = self._template(request)
        url, prompt_id = self._target(request)
        plan = _check(template, source)
        seed = request.seed if request.seed is not None else _seed_for(prompt_id)
        values, uploads, notes = _values(request, plan, seed)

        def fill(names: Mapping[str, str]) -> dict[str, Any]:
            try:
                return fill_workflow(template, {**values, **names}, source=source)
            except WorkflowProblem as problem:
                raise InvalidRequest(str(problem), provider=PROVIDER, detail=problem.what) from None

        graph = fill({upload.value: upload.name for upload in uploads})
        async with new_client(transport=self._transport) as http:
            node = NodeClient(url, http=http, token=self._token, timeout=self.timeout)
            call = _Call(node, prompt_id, fill, uploads, notes=notes)
            async with JobEvents(url, prompt_id, token=self._token, timeout=self.timeout) as events:
                entry = await self._run(call, events, request.job_id is not None, on_job, on_progress)
            image = await node.image(entry)
        mime, _, _ = check_image(image, PROVIDER)
        return self._result(request, call, template, graph, seed, image, mime)

    def _template(self, request: RenderRequest) -> tuple[Mapping[str, Any], str]:
        """The request's workflow and the name problems call it by."""
        if request.workflow is None:
            raise InvalidRequest(
                f"{PROVIDER} needs a workflow: set [providers.comfyui] workflow",
                provider=PROVIDER,
                detail="no workflow",
            )
        name = request.params.get("workflow")
        return request.workflow, name if isinstance(name, str) and name else "workflow"

    def _target(self, request: RenderRequest) -> tuple[str, str]:
        """``(node url, prompt_id)``: from a saved job id, else the chosen node and the call's id."""
        if request.job_id:
            prompt_id, saved = split_job_id(request.job_id)
            # The saved URL carries no credentials: find the configured node it names.
            url = next((node for node in self.nodes if public_url(node) == public_url(saved)), saved)
            return url, prompt_id
        if not self.nodes:
            raise InvalidRequest(f"{PROVIDER} has no nodes: set COMFYUI_URLS", provider=PROVIDER, detail="no nodes")
        if request.node is None:
            return self.nodes[0], prompt_id_for(request.call_id)
        wanted = request.node.partition("#")[0].rstrip("/")
        if wanted not in self.nodes:
            raise InvalidRequest(
                f"{PROVIDER} node {public_url(wanted)} is not one of COMFYUI_URLS",
                provider=PROVIDER,
                detail="unknown node",
            )
        return wanted, prompt_id_for(request.call_id)

    async def _run(
        self,
        call: _Call,
        events: JobEvents,
        resuming: bool,
        on_job: JobCallback | None,
        on_progress: ProgressCallback | None,
    ) -> dict[str, Any]:
        """Find or submit the job, then wait for it; a cancelled wait takes the job off the node."""
        watch = JobWatch(
            call.node,
            events,
            call.prompt_id,
            on_progress=on_progress,
            on_lost=call.resubmit,
            poll_interval=self.poll_interval,
            max_wait=self.max_wait,
            unreachable_grace=self.unreachable_grace,
        )
        where = await call.node.locate(call.prompt_id)
        if where.state == "done":
            return watch.finished(where.entry)
        if not resuming and on_job is not None:
            # Saved before submitting: a crash between the submit and the save cannot lose the job.
            await on_job(call.job_id)
        try:
            if where.state == "unknown" and resuming:
                await call.resubmit()  # the node restarted since the job was saved
                await watch.report(Progress(call.node.name, "resubmitted"))
            elif where.state == "unknown":
                await call.submit()
            return await watch.wait()
        except asyncio.CancelledError:
            await call.cancel()
            raise

    def _result(
        self,
        request: RenderRequest,
        call: _Call,
        template: Mapping[str, Any],
        graph: dict[str, Any],
        seed: int,
        image: bytes,
        mime: str,
    ) -> RenderResult:
        recipe = recipe_of(graph)
        params: dict[str, Any] = {
            "workflow": request.params.get("workflow"),
            "workflow_sha256": workflow_sha256(template),
            "node": call.node.name,
            "prompt_id": call.prompt_id,
            **recipe,
            **call.notes,
        }
        if call.resubmitted:
            params["resubmitted"] = True
        return RenderResult(
            image=image,
            mime_type=mime,
            model=f"{PROVIDER}:{recipe['checkpoint'] or 'workflow'}",
            seed=seed,
            params={key: value for key, value in params.items() if value is not None},
            reproducible=True,
            job_id=call.job_id,
        )


def _check(template: Mapping[str, Any], source: str) -> WorkflowPlan:
    try:
        return check_workflow(template, source=source)
    except WorkflowProblem as problem:
        raise InvalidRequest(str(problem), provider=PROVIDER, detail=problem.what) from None


DEFAULT_STEPS = 20
DEFAULT_CFG = 8.0
"""ComfyUI's own KSampler defaults, for a ``$steps`` / ``$cfg`` the project leaves unset."""


def _seed_for(prompt_id: str) -> int:
    """A seed for a request that gives none: drawn from the job's id, so a resumed call records
    the seed the job was submitted with."""
    return int(hashlib.sha256(prompt_id.encode()).hexdigest(), 16) % SEED_RANGE


def _values(
    request: RenderRequest, plan: WorkflowPlan, seed: int
) -> tuple[dict[str, Any], list[_Upload], dict[str, Any]]:
    """The values to fill in, the images to upload first, and what was left out (for the recipe)."""
    params = request.params
    values: dict[str, Any] = {
        "prompt": request.prompt,
        "negative": request.negative,
        "seed": seed,
        "width": request.width,
        "height": request.height,
        # A "$steps" or "$cfg" the project gives no value for gets ComfyUI's KSampler default;
        # without a placeholder, the workflow's own value stays unless the project sets one.
        "steps": params.get("steps", DEFAULT_STEPS if "steps" in plan.placeholders else None),
        "cfg": params.get("cfg", DEFAULT_CFG if "cfg" in plan.placeholders else None),
        "sampler": params.get("sampler"),
        "scheduler": params.get("scheduler"),
        "checkpoint": params.get("checkpoint"),
    }
    uploads: list[_Upload] = []
    notes: dict[str, Any] = {}
    if request.init_image is not None and plan.init_image:
        mime = check_input_image(request.init_image, PROVIDER, what="init image")
        uploads.append(_Upload("init_image", request.init_image, mime))
        values["strength"] = request.strength
    elif request.init_image is not None:
        notes["init_image_ignored"] = True  # the workflow renders from the prompt alone
    if request.mask is not None and plan.mask:
        uploads.append(_Upload("mask", request.mask, check_input_image(request.mask, PROVIDER, what="mask")))
    elif request.mask is not None:
        notes["mask_ignored"] = True
    return values, uploads, notes
