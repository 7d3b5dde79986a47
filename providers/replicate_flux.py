"""Flux on Replicate, and Real-ESRGAN upscaling, through the ``replicate`` client (1.0.x).

Flow for every job: create the prediction, hand its id to ``on_job`` *before* waiting (so a
crashed attempt can resume instead of paying twice), then poll ``GET /v1/predictions/{id}``
until it is terminal. With ``request.job_id`` set, no prediction is created: that one is polled.

Client quirks handled here (replicate 1.0.7):
    * Status ``aborted`` is not in the client's pydantic model, so parsing raises a
      ``pydantic.v1.ValidationError``; it is caught and reported as :class:`Unavailable`.
    * ``ReplicateError`` drops response headers, so ``Retry-After`` is captured by an httpx
      response hook into a context variable (per task, so concurrent renders do not mix).
    * The client's transport retries GETs on 429/503/504 itself but never retries POSTs.
    * Prediction creates and file uploads are sent with ``timeout=None`` (no limit), so each
      client call is wrapped in ``asyncio.timeout(timeout)`` here. A create that times out
      may still have made a prediction whose id we never learn; that is inherent to timeouts.
    * ``prediction.output`` holds plain strings (``FileOutput`` is only made by ``run()``).
      Outputs are downloaded at once (Replicate deletes them after an hour) with a client
      that carries no token, because output hosts are not the API host.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import replicate
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction

try:  # the client parses with pydantic's v1 API when pydantic 2 is installed
    from pydantic.v1 import ValidationError
except ImportError:  # pragma: no cover - pydantic 1
    from pydantic import ValidationError  # type: ignore[assignment]

from providers.base import (
    BadImage,
    InvalidRequest,
    JobCallback,
    Rejected,
    RenderRequest,
    RenderResult,
    Unavailable,
    UpscaleResult,
)
from providers.gemini import nearest_aspect  # the one aspect-ratio picker
from providers.http_errors import (
    check_image,
    error_for_status,
    error_from_transport,
    fetch_image,
    parse_retry_after,
    redact,
    to_data_uri,
)

PROVIDER = "replicate"
T = TypeVar("T")

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
FLUX_ASPECTS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
IMG2IMG_MODELS = frozenset({"black-forest-labs/flux-dev"})
"""Models that take ``image`` + ``prompt_strength`` (image-to-image)."""

DEFAULT_ESRGAN_VERSION = "42fed1c4974146d4d2414e2be2c5277c7fcf05fcc3a73abf41610695738c1d7b"
"""Most widely used ``nightmareai/real-esrgan`` version; not confirmed current: configurable."""

_NSFW = re.compile(r"(?i)nsfw|safety|sensitive|explicit|content polic|flagged|inappropriate")
_INVALID = re.compile(r"(?i)\binvalid\b|validation|must be|not a valid|out of range|unsupported")
_SEED_LOG = re.compile(r"(?i)using seed[:=]?\s*(\d+)")

_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "replicate_retry_after", default=None)


async def _remember_retry_after(response: httpx.Response) -> None:
    """httpx response hook: keep ``Retry-After`` of a 429 for the error we raise next.

    Hooks run inside the awaiting task, so the context variable is that task's own.
    """
    if response.status_code == 429:
        _retry_after.set(parse_retry_after(response.headers.get("retry-after")))


def _install_hook(client: replicate.Client) -> None:
    # The client builds its httpx.AsyncClient lazily and exposes no hook API; event_hooks is
    # public on httpx clients, reached through the client's (underscored) accessor.
    # Only the async client gets it: the sync one would call the coroutine without awaiting.
    try:
        hooks = client._async_client.event_hooks
        if _remember_retry_after not in hooks["response"]:
            hooks["response"].append(_remember_retry_after)
    except (AttributeError, KeyError):  # pragma: no cover - another client version
        pass


class _ReplicateJobs:
    """Create/resume, poll and download, with every failure mapped to a ProviderError."""

    def __init__(self, api_token: str, *, base_url: str, client: replicate.Client | None,
                 poll_interval: float, timeout: float, max_wait: float) -> None:
        self._token = api_token
        if client is None:
            client = replicate.Client(api_token=api_token, base_url=base_url,
                                      timeout=httpx.Timeout(timeout))
        _install_hook(client)
        self.client = client
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.max_wait = max_wait

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run one client call, mapping its exceptions."""
        _retry_after.set(None)
        try:
            # The client sends prediction creates and file uploads with timeout=None (no
            # limit at all), so the per-call limit is enforced here.
            async with asyncio.timeout(self.timeout):
                return await make()
        except TimeoutError as exc:
            raise error_from_transport(exc, PROVIDER) from None
        except ReplicateError as exc:
            status = exc.status or 0
            detail = redact(exc.detail or exc.title or "", (self._token,)) or None
            raise error_for_status(status, provider=PROVIDER, detail=detail,
                                   retry_after=_retry_after.get() if status == 429 else None) from None
        except ValidationError as exc:
            given = [str(e.get("ctx", {}).get("given")) for e in exc.errors()
                     if e.get("loc") == ("status",) and e.get("ctx", {}).get("given")]
            what = f"status {given[0]}" if given else "unparseable prediction"
            raise Unavailable(f"{PROVIDER} prediction ended with {what}", provider=PROVIDER,
                              detail=what) from None
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, PROVIDER) from exc

    async def run(self, *, model: str, version: str | None, input: dict[str, Any],
                  job_id: str | None, on_job: JobCallback | None) -> Prediction:
        """Create (or resume) a prediction and wait for a terminal status."""
        if job_id:
            prediction = await self.call(lambda: self.client.predictions.async_get(job_id))
        else:
            if version:
                prediction = await self.call(
                    lambda: self.client.predictions.async_create(version=version, input=input))
            else:
                prediction = await self.call(
                    lambda: self.client.models.predictions.async_create(model=model, input=input))
            if on_job is not None:
                await on_job(prediction.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while prediction.status not in TERMINAL:
            if loop.time() >= deadline:
                raise Unavailable(f"{PROVIDER} prediction still {prediction.status} after "
                                  f"{self.max_wait:g}s", provider=PROVIDER,
                                  detail=f"prediction {prediction.id} not finished")
            await asyncio.sleep(self.poll_interval)
            pid = prediction.id
            prediction = await self.call(lambda: self.client.predictions.async_get(pid))
        if prediction.status == "failed":
            error = redact(str(prediction.error or "failed without a message"), (self._token,))
            cls = Rejected if _NSFW.search(error) else InvalidRequest if _INVALID.search(error) else Unavailable
            raise cls(f"{PROVIDER} prediction failed: {error}", provider=PROVIDER, detail=error)
        if prediction.status == "canceled":
            raise Unavailable(f"{PROVIDER} prediction was canceled", provider=PROVIDER,
                              detail=f"prediction {prediction.id} canceled")
        return prediction

    async def download(self, prediction: Prediction) -> tuple[bytes, str]:
        """Fetch and check the first output (list of URLs, or one URL for e.g. flux-1.1-pro)."""
        output = prediction.output
        first = output[0] if isinstance(output, list) and output else output
        if not isinstance(first, str) or not first:
            raise BadImage(f"{PROVIDER} prediction succeeded without an output", provider=PROVIDER,
                           detail="no output")
        image = await fetch_image(first, provider=PROVIDER, timeout=self.timeout)
        mime, _, _ = check_image(image, PROVIDER)
        return image, mime

    async def image_input(self, image: bytes, mime: str, inline_limit: int) -> str:
        """Small inputs travel inline as data URIs; larger ones go through the Files API."""
        if len(image) <= inline_limit:
            return to_data_uri(image, mime)
        ext = mime.rsplit("/", 1)[-1]
        uploaded = await self.call(lambda: self.client.files.async_create(
            io.BytesIO(image), filename=f"input.{ext}", content_type=mime))
        return uploaded.urls["get"]


def _model_label(prediction: Prediction, fallback: str) -> str:
    model = getattr(prediction, "model", None) or fallback
    version = getattr(prediction, "version", None)
    return f"{model}:{version}" if version else model


def _recorded(inp: dict[str, Any] | None) -> dict[str, Any]:
    """The input as sent, with inline image payloads replaced by a short marker."""
    out = dict(inp or {})
    for key, value in out.items():
        if isinstance(value, str) and value.startswith("data:"):
            out[key] = f"<data URI, {len(value)} chars>"
    return out


class ReplicateRenderer:
    """Flux on Replicate (``flux-schnell`` by default; ``flux-dev``, ``flux-1.1-pro`` work too).

    Always sends ``go_fast: false`` (fast mode is not deterministic even with a seed) plus the
    seed when one is given, so a recorded take can be replayed. Without a seed the one the model
    logs ("Using seed: N") is recorded when present. Width/height become the nearest Flux
    ``aspect_ratio``; flux has no negative prompt, so ``negative`` is ignored.
    ``init_image`` becomes ``image`` + ``prompt_strength`` on image-to-image models
    (:data:`IMG2IMG_MODELS`, or ``img2img=True``) and is ignored otherwise.
    ``request.params`` (except ``model``) are merged into the input.

    Args:
        api_token: Replicate API token.
        base_url: API root; tests point it at a fake.
        model: ``owner/name`` of an official model (created via the model endpoint).
        poll_interval: Seconds between status polls.
        client: Preconfigured client; one is built from ``api_token``/``base_url`` when ``None``.
        timeout: Seconds per HTTP request (not for the whole job).
        max_wait: Seconds to wait for a job before giving up with :class:`Unavailable`; the job
            keeps running and can be resumed with its id.
        img2img: Force image-to-image support on or off; ``None`` infers it from ``model``.
        inline_limit: Largest ``init_image`` sent inline as a data URI; larger ones are uploaded.
    """

    name = "replicate"

    def __init__(self, api_token: str, *, base_url: str = "https://api.replicate.com",
                 model: str = "black-forest-labs/flux-schnell", poll_interval: float = 1.0,
                 client: replicate.Client | None = None, timeout: float = 60,
                 max_wait: float = 600, img2img: bool | None = None,
                 inline_limit: int = 256 * 1024) -> None:
        self._jobs = _ReplicateJobs(api_token, base_url=base_url, client=client,
                                    poll_interval=poll_interval, timeout=timeout, max_wait=max_wait)
        self.model = model
        self.img2img = img2img
        self.inline_limit = inline_limit

    def __repr__(self) -> str:
        return f"ReplicateRenderer(model={self.model!r})"

    async def _input(self, request: RenderRequest, model: str, extra: dict[str, Any]) -> dict[str, Any]:
        inp: dict[str, Any] = {
            "prompt": request.prompt,
            "aspect_ratio": nearest_aspect(request.width, request.height, FLUX_ASPECTS),
            "num_outputs": 1,
            "output_format": "png",  # lossless: the studio keeps the master
            "go_fast": False,
        }
        if request.seed is not None:
            inp["seed"] = request.seed
        img2img = self.img2img if self.img2img is not None else model in IMG2IMG_MODELS
        if request.init_image is not None and img2img:
            try:
                mime, _, _ = check_image(request.init_image, PROVIDER)
            except BadImage:
                raise InvalidRequest("init_image is not a decodable image", provider=PROVIDER,
                                     detail="bad init_image") from None
            inp["image"] = await self._jobs.image_input(request.init_image, mime, self.inline_limit)
            if request.strength is not None:
                inp["prompt_strength"] = request.strength
        inp.update(extra)
        return inp

    async def render(self, request: RenderRequest, *, on_job: JobCallback | None = None) -> RenderResult:
        """Render one image, or finish the prediction ``request.job_id`` names.

        Raises:
            Rejected: The prediction failed on a safety/NSFW check.
            Unavailable: 5xx, timeouts, ``canceled``/``aborted`` predictions, other failures.
            RateLimited: 429, with ``retry_after`` when Replicate sent ``Retry-After``.
            BadImage: No output, or output bytes that do not decode.
        """
        extra = dict(request.params)
        model = str(extra.pop("model", self.model))
        sent: dict[str, Any] | None = None
        if not request.job_id:
            sent = await self._input(request, model, extra)
        prediction = await self._jobs.run(model=model, version=None, input=sent or {},
                                          job_id=request.job_id, on_job=on_job)
        image, mime = await self._jobs.download(prediction)
        inp = sent if sent is not None else dict(prediction.input or {})
        seed = inp.get("seed")
        if seed is None:
            found = _SEED_LOG.search(prediction.logs or "")
            seed = int(found.group(1)) if found else None
        return RenderResult(
            image=image,
            mime_type=mime,
            model=_model_label(prediction, model),
            seed=seed,
            params=_recorded(inp),
            reproducible=seed is not None and inp.get("go_fast") is False,
            revised_prompt=None,
            job_id=prediction.id,
        )


class ReplicateUpscaler:
    """Real-ESRGAN on Replicate (``nightmareai/real-esrgan``, a community model: needs a version).

    Args:
        api_token: Replicate API token.
        base_url: API root; tests point it at a fake.
        model: ``owner/name``, recorded with the version.
        version: Version id to run; ``None`` uses the model endpoint (official models only).
        poll_interval: Seconds between status polls.
        client: Preconfigured client; built from ``api_token``/``base_url`` when ``None``.
        timeout: Seconds per HTTP request.
        max_wait: Seconds to wait for the job before :class:`Unavailable`.
        face_enhance: Run GFPGAN face enhancement too.
        inline_limit: Largest image sent inline as a data URI; larger ones are uploaded first
            (Replicate asks for uploads above 256 KB).
    """

    name = "replicate-esrgan"

    def __init__(self, api_token: str, *, base_url: str = "https://api.replicate.com",
                 model: str = "nightmareai/real-esrgan", version: str | None = DEFAULT_ESRGAN_VERSION,
                 poll_interval: float = 1.0, client: replicate.Client | None = None,
                 timeout: float = 60, max_wait: float = 600, face_enhance: bool = False,
                 inline_limit: int = 256 * 1024) -> None:
        self._jobs = _ReplicateJobs(api_token, base_url=base_url, client=client,
                                    poll_interval=poll_interval, timeout=timeout, max_wait=max_wait)
        self.model = model
        self.version = version
        self.face_enhance = face_enhance
        self.inline_limit = inline_limit

    def __repr__(self) -> str:
        return f"ReplicateUpscaler(model={self.model!r}, version={self.version!r})"

    async def upscale(self, image: bytes, *, factor: int, on_job: JobCallback | None = None,
                      job_id: str | None = None) -> UpscaleResult:
        """Upscale ``image`` by ``factor``; same create → ``on_job`` → poll flow as rendering.

        ``on_job``/``job_id`` go beyond the :class:`~providers.base.Upscaler` protocol (which
        has no resume yet); both are optional.

        Raises:
            InvalidRequest: ``image`` does not decode (nothing is sent).
            ProviderError: As for :meth:`ReplicateRenderer.render`.
        """
        sent: dict[str, Any] | None = None
        if not job_id:
            try:
                mime, _, _ = check_image(image, PROVIDER)
            except BadImage:
                raise InvalidRequest("image to upscale is not decodable", provider=PROVIDER,
                                     detail="bad input image") from None
            sent = {"image": await self._jobs.image_input(image, mime, self.inline_limit),
                    "scale": factor, "face_enhance": self.face_enhance}
        prediction = await self._jobs.run(model=self.model, version=self.version, input=sent or {},
                                          job_id=job_id, on_job=on_job)
        out, out_mime = await self._jobs.download(prediction)
        return UpscaleResult(image=out, mime_type=out_mime, model=_model_label(prediction, self.model),
                             params=_recorded(sent if sent is not None else prediction.input))
