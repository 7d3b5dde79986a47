"""Flux on fal, and ESRGAN upscaling, through ``fal_client.AsyncClient`` (1.0.x).

Flow: ``submit`` → ``on_job(request_id)`` before waiting → poll the status URL → fetch the
result. With ``request.job_id`` set nothing is submitted: the existing request is awaited through
``get_handle`` (status, then result).

fal_client facts this module depends on (read in fal_client/client.py, 1.0.3):
    * The queue root is the module global ``fal_client.client.QUEUE_URL_FORMAT``
      (``"https://queue.fal.run/"``), read on every ``submit``/``get_handle`` call; its host
      comes from env vars at import and the scheme is fixed to https. :func:`_queue_base`
      points it at ``base_url`` for the duration of a call (see there for the one caveat).
    * Every request is retried by the client itself on 408/409/429, transport errors and
      timeouts, up to ``fal_client.client.MAX_ATTEMPTS`` (10) with exponential backoff that
      ignores ``Retry-After``. Tests lower it to 1 so a 429 surfaces at once.
    * Failures raise ``FalClientHTTPError`` (``status_code``, ``response_headers`` as a dict
      with lower-case keys, ``message`` = body ``detail``); timeouts of a plain submit/poll
      surface as ``httpx.TimeoutException`` (``FalClientTimeoutError`` only comes from
      ``subscribe(client_timeout=...)``), so both are mapped.
    * The status payload must carry ``queue_position`` (IN_QUEUE) and ``logs``
      (IN_PROGRESS/COMPLETED) or the client raises ``KeyError``: that becomes
      :class:`Unavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import fal_client
import fal_client.client as fal_module
import httpx

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
from providers.http_errors import (
    check_image,
    error_for_status,
    error_from_transport,
    fetch_image,
    parse_retry_after,
    redact,
    to_data_uri,
)

PROVIDER = "fal"
T = TypeVar("T")

_in_flight = 0
_saved_queue_url: str | None = None


@contextlib.contextmanager
def _queue_base(base_url: str) -> Iterator[None]:
    """Point ``fal_client``'s module-global queue root at ``base_url`` for one call.

    The library default is restored once no call is in flight, so the global never stays
    pointed at a test server. Caveat: the value is process-wide, so calls with *different*
    base URLs cannot overlap; that is a configuration error (all fal adapters of one studio
    share one base URL) and raises ``RuntimeError`` instead of silently crossing wires.
    """
    global _in_flight, _saved_queue_url
    wanted = base_url.rstrip("/") + "/"
    if _in_flight and fal_module.QUEUE_URL_FORMAT != wanted:
        raise RuntimeError("fal adapters with different base URLs cannot run concurrently")
    if _in_flight == 0:
        _saved_queue_url = fal_module.QUEUE_URL_FORMAT
    fal_module.QUEUE_URL_FORMAT = wanted
    _in_flight += 1
    try:
        yield
    finally:
        _in_flight -= 1
        if _in_flight == 0 and _saved_queue_url is not None:
            fal_module.QUEUE_URL_FORMAT = _saved_queue_url


class _FalJobs:
    """Submit/resume, wait and map errors; shared by renderer and upscaler."""

    def __init__(self, key: str, *, base_url: str, client: fal_client.AsyncClient | None,
                 timeout: float, max_wait: float, poll_interval: float) -> None:
        self._key = key
        self.base_url = base_url
        # default_timeout bounds the submit POST; status/result polls use the client's own
        # QUEUE_POLL_TIMEOUT, and max_wait bounds the whole job.
        self.client = client or fal_client.AsyncClient(key=key, default_timeout=timeout)
        self.timeout = timeout
        self.max_wait = max_wait
        self.poll_interval = poll_interval

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run one client step with the queue root set, mapping its exceptions."""
        try:
            with _queue_base(self.base_url):
                return await make()
        except fal_client.FalClientHTTPError as exc:
            headers = {k.lower(): v for k, v in (exc.response_headers or {}).items()}
            retry_after = parse_retry_after(headers.get("retry-after")) if exc.status_code == 429 else None
            detail = redact(str(exc.message or ""), (self._key,)) or None
            raise error_for_status(exc.status_code, provider=PROVIDER, detail=detail,
                                   retry_after=retry_after) from None
        except fal_client.FalClientTimeoutError as exc:
            raise error_from_transport(exc, PROVIDER) from None
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, PROVIDER) from exc
        except (KeyError, ValueError, TypeError) as exc:
            # Unknown status or a payload missing fields the client indexes directly.
            raise Unavailable(f"{PROVIDER} sent an unexpected queue payload ({type(exc).__name__})",
                              provider=PROVIDER, detail="unexpected queue payload") from None

    async def run(self, model: str, arguments: dict[str, Any], *, job_id: str | None,
                  on_job: JobCallback | None) -> tuple[str, dict[str, Any]]:
        """Submit (or resume) and wait; returns ``(request_id, result)``."""
        if job_id:
            handle = await self.call(lambda: self.client.get_handle(model, job_id))
        else:
            handle = await self.call(lambda: self.client.submit(model, arguments))
            if on_job is not None:
                await on_job(handle.request_id)
        try:
            async with asyncio.timeout(self.max_wait):
                result = await self.call(lambda: handle.get(interval=self.poll_interval))
        except TimeoutError:
            raise Unavailable(f"{PROVIDER} request not finished after {self.max_wait:g}s",
                              provider=PROVIDER,
                              detail=f"request {handle.request_id} not finished") from None
        if not isinstance(result, dict):
            raise BadImage(f"{PROVIDER} returned an unexpected result", provider=PROVIDER,
                           detail="result is not an object")
        return handle.request_id, result

    async def image(self, entry: Any) -> tuple[bytes, str, int, int]:
        """Download and check one ``{"url", ...}`` image entry."""
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url:
            raise BadImage(f"{PROVIDER} result has no image", provider=PROVIDER, detail="no image url")
        data = await fetch_image(url, provider=PROVIDER, timeout=self.timeout)
        mime, width, height = check_image(data, PROVIDER)
        return data, mime, width, height


def _redacted(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: (f"<data URI, {len(v)} chars>" if isinstance(v, str) and v.startswith("data:") else v)
            for k, v in arguments.items()}


class FalRenderer:
    """Flux on fal (``fal-ai/flux/schnell`` by default; ``fal-ai/flux/dev`` works too).

    Sends ``image_size`` as ``{width, height}`` and ``enable_safety_checker: true``. fal returns
    the seed it actually used; that one is recorded and the take is marked reproducible (fal:
    same seed + prompt + model version → same image). ``has_nsfw_concepts`` true for the image
    raises :class:`Rejected`. Flux has no negative prompt and this text-to-image endpoint no
    image input, so ``negative``/``init_image`` are ignored. ``request.params`` (except
    ``model``) are merged into the arguments.

    Args:
        key: fal API key (``Authorization: Key``).
        base_url: Queue root; tests point it at a fake.
        model: fal endpoint id.
        client: Preconfigured client; built from ``key`` when ``None``.
        timeout: Seconds for the submit request and for the image download.
        max_wait: Seconds to wait for the job before :class:`Unavailable` (the job keeps running).
        poll_interval: Seconds between status polls.
    """

    name = "fal"

    def __init__(self, key: str, *, base_url: str = "https://queue.fal.run",
                 model: str = "fal-ai/flux/schnell", client: fal_client.AsyncClient | None = None,
                 timeout: float = 120, max_wait: float = 600, poll_interval: float = 0.5) -> None:
        self._jobs = _FalJobs(key, base_url=base_url, client=client, timeout=timeout,
                              max_wait=max_wait, poll_interval=poll_interval)
        self.model = model

    def __repr__(self) -> str:
        return f"FalRenderer(model={self.model!r}, base_url={self._jobs.base_url!r})"

    async def render(self, request: RenderRequest, *, on_job: JobCallback | None = None) -> RenderResult:
        """Render one image, or finish the request ``request.job_id`` names.

        Raises:
            Rejected: ``has_nsfw_concepts`` flagged the image.
            RateLimited: 429 after the client's own retries, with ``Retry-After`` if sent.
            Unavailable: 5xx, timeouts, unexpected payloads, ``max_wait`` exceeded.
            BadImage: No image, or bytes that do not decode.
        """
        extra = dict(request.params)
        model = str(extra.pop("model", self.model))
        arguments: dict[str, Any] = {
            "prompt": request.prompt,
            "image_size": {"width": request.width, "height": request.height},
            "num_images": 1,
            "enable_safety_checker": True,
            "output_format": "png",
        }
        if request.seed is not None:
            arguments["seed"] = request.seed
        arguments.update(extra)
        request_id, result = await self._jobs.run(model, arguments, job_id=request.job_id, on_job=on_job)
        nsfw = result.get("has_nsfw_concepts")
        if nsfw is True or (isinstance(nsfw, list) and any(flag is True for flag in nsfw)):
            raise Rejected(f"{PROVIDER} safety checker flagged the image", provider=PROVIDER,
                           detail="has_nsfw_concepts")
        images = result.get("images") or []
        image, mime, _, _ = await self._jobs.image(images[0] if isinstance(images, list) and images else None)
        try:  # the seed fal actually used; fall back to the one we sent
            seed: int | None = int(result.get("seed", arguments.get("seed")))
        except (TypeError, ValueError):
            seed = None
        # On resume nothing was sent now, but the same request built the same arguments then.
        return RenderResult(
            image=image,
            mime_type=mime,
            model=model,
            seed=seed,
            params=dict(arguments),
            reproducible=seed is not None,
            revised_prompt=None,
            job_id=request_id,
        )


class FalUpscaler:
    """ESRGAN on fal (``fal-ai/esrgan``: ``{image_url, scale}`` → ``{image: {url, ...}}``).

    The image travels inline as a data URI (fal accepts them), so no upload step is needed.

    Args:
        key: fal API key.
        base_url: Queue root; tests point it at a fake.
        model: fal endpoint id.
        client: Preconfigured client; built from ``key`` when ``None``.
        timeout: Seconds for the submit request and the download.
        max_wait: Seconds to wait for the job.
        poll_interval: Seconds between status polls.
    """

    name = "fal-esrgan"

    def __init__(self, key: str, *, base_url: str = "https://queue.fal.run",
                 model: str = "fal-ai/esrgan", client: fal_client.AsyncClient | None = None,
                 timeout: float = 120, max_wait: float = 600, poll_interval: float = 0.5) -> None:
        self._jobs = _FalJobs(key, base_url=base_url, client=client, timeout=timeout,
                              max_wait=max_wait, poll_interval=poll_interval)
        self.model = model

    def __repr__(self) -> str:
        return f"FalUpscaler(model={self.model!r}, base_url={self._jobs.base_url!r})"

    async def upscale(self, image: bytes, *, factor: int, on_job: JobCallback | None = None,
                      job_id: str | None = None) -> UpscaleResult:
        """Upscale ``image`` by ``factor`` (``on_job``/``job_id`` as for rendering; optional).

        Raises:
            InvalidRequest: ``image`` does not decode (nothing is sent).
            ProviderError: As for :meth:`FalRenderer.render`.
        """
        try:
            mime, _, _ = check_image(image, PROVIDER)
        except BadImage:
            raise InvalidRequest("image to upscale is not decodable", provider=PROVIDER,
                                 detail="bad input image") from None
        arguments = {"image_url": to_data_uri(image, mime), "scale": factor}
        _, result = await self._jobs.run(self.model, arguments, job_id=job_id, on_job=on_job)
        out, out_mime, _, _ = await self._jobs.image(result.get("image"))
        return UpscaleResult(image=out, mime_type=out_mime, model=self.model,
                             params=_redacted(arguments))
