"""Upscaling on fal through ``fal_client.AsyncClient``: ESRGAN, or the Clarity upscaler.

Same submit → ``on_job`` → wait → fetch flow and error mapping as the Flux renderer (see
:mod:`providers.fal.jobs`). Both endpoints answer ``{"image": {"url", ...}}``; they differ in
the name and range of the factor argument, which :data:`providers.model_inputs.MODEL_INPUTS`
holds.
"""

from __future__ import annotations

import fal_client

from providers._http.errors import summarize_inline_images
from providers.base import JobCallback, UpscaleResult
from providers.fal.jobs import PROVIDER, FalJobs, inline_image
from providers.model_inputs import check_factor, model_inputs

ESRGAN = "fal-ai/esrgan"
CLARITY = "fal-ai/clarity-upscaler"


class FalUpscaler:
    """Upscaling on fal: ``fal-ai/esrgan`` (``{image_url, scale}``) by default, or
    ``fal-ai/clarity-upscaler`` (``{image_url, upscale_factor}``, diffusion-based: it adds
    detail, at about ten times the price).

    The image travels inline as a data URI (fal accepts them), so no upload step is needed.

    Args:
        key: fal API key.
        base_url: Queue root; tests point it at a fake.
        model: fal endpoint id (one of the upscalers in :data:`providers.model_inputs.MODEL_INPUTS`).
        client: Preconfigured client; built from ``key`` when ``None``.
        timeout: Seconds for the submit request and the download.
        max_wait: Seconds to wait for the job.
        poll_interval: Seconds between status polls.
    """

    name = PROVIDER

    def __init__(
        self,
        key: str,
        *,
        base_url: str = "https://queue.fal.run",
        model: str = ESRGAN,
        client: fal_client.AsyncClient | None = None,
        timeout: float = 120,
        max_wait: float = 600,
        poll_interval: float = 0.5,
    ) -> None:
        self._jobs = FalJobs(
            key, base_url=base_url, client=client, timeout=timeout, max_wait=max_wait, poll_interval=poll_interval
        )
        self.model = model

    def __repr__(self) -> str:
        return f"FalUpscaler(model={self.model!r}, base_url={self._jobs.base_url!r})"

    async def upscale(
        self, image: bytes, *, factor: int, on_job: JobCallback | None = None, job_id: str | None = None
    ) -> UpscaleResult:
        """Upscale ``image`` by ``factor`` in each dimension.

        Args:
            image: Encoded image to upscale.
            factor: Scale factor.
            on_job: Awaited with the request id before waiting on it. Beyond the
                :class:`~providers.base.Upscaler` protocol (which has no resume yet); optional.
            job_id: Finish this earlier request instead of submitting one; optional.

        Raises:
            InvalidRequest: ``image`` does not decode, ``factor`` is outside the endpoint's
                range or the endpoint is not in the input table (nothing is sent in these
                cases), or fal refused the arguments.
            RateLimited: 429 after the client's own retries, with ``Retry-After`` if sent.
            Unavailable: 5xx, timeouts, unexpected payloads, ``max_wait`` exceeded.
            BadImage: No image, or bytes that do not decode.
        """
        spec = model_inputs(PROVIDER, self.model)
        factor_name = check_factor(spec, factor, vendor=PROVIDER, model=self.model)
        arguments = {str(spec.image_input): inline_image(image, what="image to upscale"), factor_name: factor}
        _, result = await self._jobs.run(self.model, arguments, job_id=job_id, on_job=on_job)
        out, mime, _, _ = await self._jobs.image(result.get("image"))
        return UpscaleResult(image=out, mime_type=mime, model=self.model, params=summarize_inline_images(arguments))


__all__ = ["CLARITY", "ESRGAN", "FalUpscaler"]
