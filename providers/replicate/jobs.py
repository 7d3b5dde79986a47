"""What every Replicate adapter shares: create or resume a prediction, poll it, download it.

Flow for every job: create the prediction, hand its id to ``on_job`` *before* waiting (so a
crashed attempt can resume instead of paying twice), then poll ``GET /v1/predictions/{id}``
until it is terminal. With a ``job_id``, no prediction is created: that one is polled.

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
import functools
import io
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic.v1 import ValidationError  # what the client parses with under pydantic 2 (the studio's)
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.prediction import Prediction

from providers._http.errors import (
    check_image,
    check_input_image,
    error_for_status,
    error_from_transport,
    fetch_image,
    parse_retry_after,
    redact,
    to_data_uri,
)
from providers.base import BadImage, InvalidRequest, JobCallback, Rejected, Unavailable

PROVIDER = "replicate"
T = TypeVar("T")

TERMINAL = frozenset({"succeeded", "failed", "canceled"})

_NSFW = re.compile(r"(?i)nsfw|safety|sensitive|explicit|content polic|flagged|inappropriate")
_INVALID = re.compile(r"(?i)\binvalid\b|validation|must be|not a valid|out of range|unsupported")

_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("replicate_retry_after", default=None)


async def _remember_retry_after(response: httpx.Response) -> None:
    """httpx response hook: keep ``Retry-After`` of a 429 for the error we raise next.

    Hooks run inside the awaiting task, so the context variable is that task's own.
    """
    if response.status_code == 429:
        _retry_after.set(parse_retry_after(response.headers.get("retry-after")))


def _install_hook(client: Client) -> None:
    # The client builds its httpx.AsyncClient lazily and exposes no hook API; event_hooks is
    # public on httpx clients, reached through the client's (underscored) accessor.
    # Only the async client gets it: the sync one would call the coroutine without awaiting.
    try:
        hooks = client._async_client.event_hooks
        if _remember_retry_after not in hooks["response"]:
            hooks["response"].append(_remember_retry_after)
    except (AttributeError, KeyError):  # pragma: no cover - another client version
        pass


class ReplicateJobs:
    """Create/resume, poll and download, with every failure mapped to a ProviderError.

    The renderer and the upscaler differ only in the input they build; everything that talks
    to Replicate goes through one of these.

    Args:
        api_token: Replicate API token.
        base_url: API root; tests point it at a fake.
        client: Preconfigured client; one is built from ``api_token``/``base_url`` when ``None``.
        poll_interval: Seconds between status polls.
        timeout: Seconds per HTTP request (not for the whole job).
        max_wait: Seconds to wait for a job before giving up with :class:`Unavailable`; the job
            keeps running and can be resumed with its id.
    """

    def __init__(
        self,
        api_token: str,
        *,
        base_url: str,
        client: Client | None,
        poll_interval: float,
        timeout: float,
        max_wait: float,
    ) -> None:
        self._token = api_token
        if client is None:
            client = Client(api_token=api_token, base_url=base_url, timeout=httpx.Timeout(timeout))
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
            raise error_for_status(
                status, provider=PROVIDER, detail=detail, retry_after=_retry_after.get() if status == 429 else None
            ) from None
        except ValidationError as exc:
            given = [
                str(e.get("ctx", {}).get("given"))
                for e in exc.errors()
                if e.get("loc") == ("status",) and e.get("ctx", {}).get("given")
            ]
            what = f"status {given[0]}" if given else "unparseable prediction"
            raise Unavailable(f"{PROVIDER} prediction ended with {what}", provider=PROVIDER, detail=what) from None
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, PROVIDER) from exc

    async def run(
        self, *, model: str, version: str | None, input: dict[str, Any], job_id: str | None, on_job: JobCallback | None
    ) -> Prediction:
        """Create (or resume) a prediction and wait for a terminal status."""
        if job_id:
            prediction = await self.call(lambda: self.client.predictions.async_get(job_id))
        else:
            if version:
                prediction = await self.call(lambda: self.client.predictions.async_create(version=version, input=input))
            else:
                prediction = await self.call(
                    lambda: self.client.models.predictions.async_create(model=model, input=input)
                )
            if on_job is not None:
                await on_job(prediction.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while prediction.status not in TERMINAL:
            if loop.time() >= deadline:
                raise Unavailable(
                    f"{PROVIDER} prediction still {prediction.status} after {self.max_wait:g}s",
                    provider=PROVIDER,
                    detail=f"prediction {prediction.id} not finished",
                )
            await asyncio.sleep(self.poll_interval)
            prediction = await self.call(functools.partial(self.client.predictions.async_get, prediction.id))
        if prediction.status == "failed":
            error = redact(str(prediction.error or "failed without a message"), (self._token,))
            cls = Rejected if _NSFW.search(error) else InvalidRequest if _INVALID.search(error) else Unavailable
            raise cls(f"{PROVIDER} prediction failed: {error}", provider=PROVIDER, detail=error)
        if prediction.status == "canceled":
            raise Unavailable(
                f"{PROVIDER} prediction was canceled", provider=PROVIDER, detail=f"prediction {prediction.id} canceled"
            )
        return prediction

    async def download(self, prediction: Prediction) -> tuple[bytes, str]:
        """Fetch and check the first output (list of URLs, or one URL for e.g. flux-1.1-pro)."""
        output = prediction.output
        first = output[0] if isinstance(output, list) and output else output
        if not isinstance(first, str) or not first:
            raise BadImage(f"{PROVIDER} prediction succeeded without an output", provider=PROVIDER, detail="no output")
        image = await fetch_image(first, provider=PROVIDER, timeout=self.timeout)
        mime, _, _ = check_image(image, PROVIDER)
        return image, mime

    async def image_input(self, image: bytes, *, inline_limit: int, what: str) -> str:
        """Check an input image, then reference it: inline as a data URI when small, else uploaded
        through the Files API (Replicate asks for uploads above 256 KB).

        Raises:
            InvalidRequest: ``image`` does not decode (``what`` names it); nothing is sent.
        """
        mime = check_input_image(image, PROVIDER, what=what)
        if len(image) <= inline_limit:
            return to_data_uri(image, mime)
        ext = mime.rsplit("/", 1)[-1]
        uploaded = await self.call(
            lambda: self.client.files.async_create(io.BytesIO(image), filename=f"input.{ext}", content_type=mime)
        )
        return uploaded.urls["get"]


def model_label(prediction: Prediction, fallback: str) -> str:
    """``owner/name:version`` of the model that ran ``prediction`` (``fallback`` when unsaid)."""
    model = getattr(prediction, "model", None) or fallback
    version = getattr(prediction, "version", None)
    return f"{model}:{version}" if version else model


__all__ = ["PROVIDER", "TERMINAL", "ReplicateJobs", "model_label"]
