"""Real-ESRGAN upscaling on Replicate (``nightmareai/real-esrgan``) through the ``replicate`` client.

Same create → ``on_job`` → poll → download flow and error mapping as the Flux renderer (see
:mod:`providers.replicate.jobs`). Real-ESRGAN is a community model, so predictions are created
against a pinned version (``POST /v1/predictions``); with ``version=None`` the model endpoint
(``POST /v1/models/{owner}/{name}/predictions``) is used instead, which Replicate serves for
official models.
"""

from __future__ import annotations

from typing import Any

from replicate.client import Client

from providers._http.errors import summarize_inline_images
from providers.base import JobCallback, UpscaleResult
from providers.model_inputs import check_factor, model_inputs
from providers.replicate.jobs import PROVIDER, ReplicateJobs, model_label

DEFAULT_ESRGAN_MODEL = "nightmareai/real-esrgan"
DEFAULT_ESRGAN_VERSION = "42fed1c4974146d4d2414e2be2c5277c7fcf05fcc3a73abf41610695738c1d7b"
"""Most widely used ``nightmareai/real-esrgan`` version; not confirmed current: configurable."""


class ReplicateUpscaler:
    """Real-ESRGAN on Replicate: input ``{image, scale, face_enhance}``, output one image URL.

    Args:
        api_token: Replicate API token.
        base_url: API root; tests point it at a fake.
        model: ``owner/name``, recorded with the version.
        version: Version id to run; ``None`` uses the model endpoint (official models only).
        poll_interval: Seconds between status polls.
        client: Preconfigured client; built from ``api_token``/``base_url`` when ``None``.
        timeout: Seconds per HTTP request.
        max_wait: Seconds to wait for the job before :class:`~providers.base.Unavailable`.
        face_enhance: Run GFPGAN face enhancement too (off: it repaints faces, and a take's
            faces should stay the ones that were approved).
        inline_limit: Largest image sent inline as a data URI; larger ones are uploaded first
            (Replicate asks for uploads above 256 KB).
    """

    name = PROVIDER

    def __init__(
        self,
        api_token: str,
        *,
        base_url: str = "https://api.replicate.com",
        model: str = DEFAULT_ESRGAN_MODEL,
        version: str | None = DEFAULT_ESRGAN_VERSION,
        poll_interval: float = 1.0,
        client: Client | None = None,
        timeout: float = 60,
        max_wait: float = 600,
        face_enhance: bool = False,
        inline_limit: int = 256 * 1024,
    ) -> None:
        self._jobs = ReplicateJobs(
            api_token, base_url=base_url, client=client, poll_interval=poll_interval, timeout=timeout, max_wait=max_wait
        )
        self.model = model
        self.version = version
        self.face_enhance = face_enhance
        self.inline_limit = inline_limit

    def __repr__(self) -> str:
        return f"ReplicateUpscaler(model={self.model!r}, version={self.version!r})"

    async def upscale(
        self, image: bytes, *, factor: int, on_job: JobCallback | None = None, job_id: str | None = None
    ) -> UpscaleResult:
        """Upscale ``image`` by ``factor`` in each dimension.

        Args:
            image: Encoded image to upscale.
            factor: Scale factor (Real-ESRGAN takes 0..10; the range comes from
                :data:`providers.model_inputs.MODEL_INPUTS`).
            on_job: Awaited with the prediction id before waiting on it. Beyond the
                :class:`~providers.base.Upscaler` protocol (which has no resume yet); optional.
            job_id: Finish this earlier prediction instead of creating one; optional.

        Raises:
            InvalidRequest: ``image`` does not decode, ``factor`` is out of the model's range
                or the model is not in the input table (nothing is sent in these cases), or
                Replicate refused the input.
            RateLimited: 429, with ``retry_after`` when Replicate sent ``Retry-After``.
            Unavailable: 5xx, timeouts, failed/canceled/aborted predictions.
            BadImage: No output, or output bytes that do not decode.
        """
        spec = model_inputs(PROVIDER, self.model)
        sent: dict[str, Any] | None = None
        if not job_id:
            factor_name = check_factor(spec, factor, vendor=PROVIDER, model=self.model)
            sent = {
                str(spec.image_input): await self._jobs.image_input(
                    image, inline_limit=self.inline_limit, what="image to upscale"
                ),
                factor_name: factor,
            }
            if "face_enhance" in spec.fields:
                sent["face_enhance"] = self.face_enhance
        prediction = await self._jobs.run(
            model=self.model, version=self.version, input=sent or {}, job_id=job_id, on_job=on_job
        )
        out, mime = await self._jobs.download(prediction)
        return UpscaleResult(
            image=out,
            mime_type=mime,
            model=model_label(prediction, self.model),
            params=summarize_inline_images(sent if sent is not None else prediction.input),
        )


__all__ = ["DEFAULT_ESRGAN_MODEL", "DEFAULT_ESRGAN_VERSION", "ReplicateUpscaler"]
