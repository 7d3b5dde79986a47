"""What every fal adapter shares: submit or resume a queued request, wait, fetch the image.

Flow: ``submit`` → ``on_job(request_id)`` before waiting → poll the status URL → fetch the
result. With a ``job_id`` nothing is submitted: the existing request is awaited through
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
from providers.base import BadImage, JobCallback, Unavailable

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
    if _in_flight and wanted != fal_module.QUEUE_URL_FORMAT:
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


class FalJobs:
    """Submit/resume, wait and map errors; shared by the renderer and the upscaler.

    Args:
        key: fal API key (``Authorization: Key``).
        base_url: Queue root; tests point it at a fake.
        client: Preconfigured client; built from ``key`` when ``None``.
        timeout: Seconds for the submit request and for image downloads.
        max_wait: Seconds to wait for a job before :class:`Unavailable` (the job keeps running).
        poll_interval: Seconds between status polls.
    """

    def __init__(
        self,
        key: str,
        *,
        base_url: str,
        client: fal_client.AsyncClient | None,
        timeout: float,
        max_wait: float,
        poll_interval: float,
    ) -> None:
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
            raise error_for_status(exc.status_code, provider=PROVIDER, detail=detail, retry_after=retry_after) from None
        except fal_client.FalClientTimeoutError as exc:
            raise error_from_transport(exc, PROVIDER) from None
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, PROVIDER) from exc
        except (KeyError, ValueError, TypeError) as exc:
            # Unknown status or a payload missing fields the client indexes directly.
            raise Unavailable(
                f"{PROVIDER} sent an unexpected queue payload ({type(exc).__name__})",
                provider=PROVIDER,
                detail="unexpected queue payload",
            ) from None

    async def run(
        self, model: str, arguments: dict[str, Any], *, job_id: str | None, on_job: JobCallback | None
    ) -> tuple[str, dict[str, Any]]:
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
            raise Unavailable(
                f"{PROVIDER} request not finished after {self.max_wait:g}s",
                provider=PROVIDER,
                detail=f"request {handle.request_id} not finished",
            ) from None
        if not isinstance(result, dict):
            raise BadImage(
                f"{PROVIDER} returned an unexpected result", provider=PROVIDER, detail="result is not an object"
            )
        return handle.request_id, result

    async def image(self, entry: Any) -> tuple[bytes, str, int, int]:
        """Download and check one ``{"url", ...}`` image entry."""
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str) or not url:
            raise BadImage(f"{PROVIDER} result has no image", provider=PROVIDER, detail="no image url")
        data = await fetch_image(url, provider=PROVIDER, timeout=self.timeout)
        mime, width, height = check_image(data, PROVIDER)
        return data, mime, width, height


def inline_image(image: bytes, *, what: str) -> str:
    """Check an image we are about to send and inline it as a data URI.

    fal accepts data URIs wherever it takes an ``*_url`` input, which spares an upload to its
    CDN (whose host is not the queue host tests can redirect).

    Raises:
        InvalidRequest: ``image`` does not decode (``what`` names it); nothing is sent.
    """
    return to_data_uri(image, check_input_image(image, PROVIDER, what=what))


__all__ = ["PROVIDER", "FalJobs", "inline_image"]
