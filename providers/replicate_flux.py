"""Flux on Replicate through the ``replicate`` client (1.0.x).

The create → ``on_job`` → poll → download flow and the client's quirks live in
:mod:`providers.replicate_jobs`; this module builds the Flux input and reads the recipe back.
"""

from __future__ import annotations

import re
from typing import Any

import replicate

from providers.base import JobCallback, RenderRequest, RenderResult
from providers.gemini import nearest_aspect  # the one aspect-ratio picker
from providers.http_errors import summarize_inline_images
from providers.replicate_jobs import PROVIDER, ReplicateJobs, model_label

FLUX_ASPECTS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
IMG2IMG_MODELS = frozenset({"black-forest-labs/flux-dev"})
"""Models that take ``image`` + ``prompt_strength`` (image-to-image)."""

_SEED_LOG = re.compile(r"(?i)using seed[:=]?\s*(\d+)")


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

    name = PROVIDER

    def __init__(self, api_token: str, *, base_url: str = "https://api.replicate.com",
                 model: str = "black-forest-labs/flux-schnell", poll_interval: float = 1.0,
                 client: replicate.Client | None = None, timeout: float = 60,
                 max_wait: float = 600, img2img: bool | None = None,
                 inline_limit: int = 256 * 1024) -> None:
        self._jobs = ReplicateJobs(api_token, base_url=base_url, client=client,
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
            inp["image"] = await self._jobs.image_input(request.init_image, inline_limit=self.inline_limit,
                                                        what="init_image")
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
            model=model_label(prediction, model),
            seed=seed,
            params=summarize_inline_images(inp),
            reproducible=seed is not None and inp.get("go_fast") is False,
            revised_prompt=None,
            job_id=prediction.id,
        )


__all__ = ["FLUX_ASPECTS", "IMG2IMG_MODELS", "PROVIDER", "ReplicateRenderer"]
