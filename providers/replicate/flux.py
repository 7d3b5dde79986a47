"""Flux on Replicate through the ``replicate`` client (1.0.x).

The create → ``on_job`` → poll → download flow and the client's quirks live in
:mod:`providers.replicate.jobs`; this module builds the Flux input and reads the recipe back.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from replicate.client import Client

from providers._http.errors import summarize_inline_images
from providers.base import JobCallback, ProgressCallback, RenderRequest, RenderResult
from providers.model_inputs import ModelInputs, is_reproducible, model_inputs, size_inputs, tunable
from providers.replicate.jobs import PROVIDER, ReplicateJobs, model_label

_SEED_LOG = re.compile(r"(?i)using seed[:=]?\s*(\d+)")
_log = logging.getLogger(__name__)


class ReplicateRenderer:
    """Flux on Replicate (``flux-schnell`` by default; ``flux-dev``, ``flux-1.1-pro`` work too).

    Each model gets only the inputs its schema has (:data:`providers.model_inputs.MODEL_INPUTS`;
    a model missing there is refused before anything is sent). Width/height become the model's
    ``aspect_ratio`` when the size is one of its ratios, else ``custom`` + width/height where the
    model takes that (flux-1.1-pro: multiples of 32, 256..1440), else its nearest ratio; what was
    sent is what ``params`` records. Models with fast mode get ``go_fast: false`` (fast mode is
    not deterministic even with a seed), and the seed when one is given. Without a seed the one
    the model logs ("Using seed: N") is recorded when present. ``reproducible`` says whether that
    seed gives the same image again on this model (:func:`~providers.model_inputs.is_reproducible`).
    Flux has no negative prompt, so ``negative`` is ignored. ``init_image`` becomes ``image`` +
    ``prompt_strength`` on models that take an input image (flux-dev); other models render from
    the prompt alone and record ``init_image_ignored``. ``request.params`` (except ``model``)
    may set the model's other inputs (steps, guidance, ...); inputs the request itself decides
    (prompt, seed, size, image) and names the model lacks are not taken from them.

    Args:
        api_token: Replicate API token.
        base_url: API root; tests point it at a fake.
        model: ``owner/name`` of an official model (created via the model endpoint).
        poll_interval: Seconds between status polls.
        client: Preconfigured client; one is built from ``api_token``/``base_url`` when ``None``.
        timeout: Seconds per HTTP request (not for the whole job).
        max_wait: Seconds to wait for a job before giving up with :class:`Unavailable`; the job
            keeps running and can be resumed with its id.
        inline_limit: Largest ``init_image`` sent inline as a data URI; larger ones are uploaded.
    """

    name = PROVIDER

    def __init__(
        self,
        api_token: str,
        *,
        base_url: str = "https://api.replicate.com",
        model: str = "black-forest-labs/flux-schnell",
        poll_interval: float = 1.0,
        client: Client | None = None,
        timeout: float = 60,
        max_wait: float = 600,
        inline_limit: int = 256 * 1024,
    ) -> None:
        self._jobs = ReplicateJobs(
            api_token, base_url=base_url, client=client, poll_interval=poll_interval, timeout=timeout, max_wait=max_wait
        )
        self.model = model
        self.inline_limit = inline_limit

    def __repr__(self) -> str:
        return f"ReplicateRenderer(model={self.model!r})"

    async def _input(
        self, request: RenderRequest, spec: ModelInputs, model: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        extra, unknown = tunable(spec, params)
        if unknown:
            _log.info("%s %s has no input named %s: not sent", PROVIDER, model, ", ".join(unknown))
        inp: dict[str, Any] = {
            "prompt": request.prompt,
            **size_inputs(spec, request.width, request.height),
            **spec.always,
            **extra,
        }
        if request.seed is not None:
            inp["seed"] = request.seed
        if request.init_image is not None and spec.image_input:
            inp[spec.image_input] = await self._jobs.image_input(
                request.init_image, inline_limit=self.inline_limit, what="init_image"
            )
            if request.strength is not None and spec.strength_input:
                inp[spec.strength_input] = request.strength
        return inp

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image, or finish the prediction ``request.job_id`` names.

        Raises:
            InvalidRequest: The model is not in the input table (nothing is sent), or
                Replicate refused the input.
            Rejected: The prediction failed on a safety/NSFW check.
            Unavailable: 5xx, timeouts, ``canceled``/``aborted`` predictions, other failures.
            RateLimited: 429, with ``retry_after`` when Replicate sent ``Retry-After``.
            BadImage: No output, or output bytes that do not decode.
        """
        extra = dict(request.params)
        model = str(extra.pop("model", self.model))
        spec = model_inputs(PROVIDER, model)
        sent: dict[str, Any] | None = None
        if not request.job_id:
            sent = await self._input(request, spec, model, extra)
        prediction = await self._jobs.run(
            model=model, version=None, input=sent or {}, job_id=request.job_id, on_job=on_job
        )
        image, mime = await self._jobs.download(prediction)
        inp = sent if sent is not None else dict(prediction.input or {})
        seed = inp.get("seed")
        if seed is None:
            found = _SEED_LOG.search(prediction.logs or "")
            seed = int(found.group(1)) if found else None
        params = summarize_inline_images(inp)
        if request.init_image is not None and not spec.image_input:
            params["init_image_ignored"] = True  # the recipe must not claim the sketch shaped this image
        return RenderResult(
            image=image,
            mime_type=mime,
            model=model_label(prediction, model),
            seed=seed,
            params=params,
            reproducible=is_reproducible(spec, inp, seed),
            revised_prompt=None,
            job_id=prediction.id,
        )


__all__ = ["PROVIDER", "ReplicateRenderer"]
