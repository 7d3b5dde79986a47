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
from providers._http.mask_edits import check_mask_edit
from providers.base import JobCallback, ProgressCallback, RenderRequest, RenderResult
from providers.model_inputs import MODEL_INPUTS, ModelInputs, is_reproducible, model_inputs, size_inputs, tunable
from providers.replicate.jobs import PROVIDER, ReplicateJobs, model_label

_SEED_LOG = re.compile(r"(?i)using seed[:=]?\s*(\d+)")
_log = logging.getLogger(__name__)

DEFAULT_FILL_MODEL = "black-forest-labs/flux-fill-pro"
"""Where a mask edit goes unless its params name another model that takes a mask."""


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

    A request with a ``mask`` (white = change) is a targeted edit of its ``init_image``: it goes
    to a Flux Fill model (``fill_model``, or a model in the params that takes a mask, such as
    ``flux-fill-dev``) with ``image`` + ``mask`` + ``prompt``; the model changes only inside the
    mask and answers at the image's size. Fill has no strength: the mask says where, and
    ``strength`` is not sent. The model that ran is the result's ``model``.

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
        fill_model: ``owner/name`` of the Flux Fill model mask edits go to.
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
        fill_model: str = DEFAULT_FILL_MODEL,
    ) -> None:
        self._jobs = ReplicateJobs(
            api_token, base_url=base_url, client=client, poll_interval=poll_interval, timeout=timeout, max_wait=max_wait
        )
        self.model = model
        self.inline_limit = inline_limit
        self.fill_model = fill_model

    def __repr__(self) -> str:
        return f"ReplicateRenderer(model={self.model!r})"

    def _model_for(self, request: RenderRequest, asked: object) -> str:
        """The model to call: a mask edit goes to a Fill model whatever a fresh render would use."""
        if request.mask is None:
            return self.model if asked is None else str(asked)
        row = None if asked is None else MODEL_INPUTS[PROVIDER].get(str(asked).split(":", 1)[0])
        return str(asked) if row is not None and row.mask_input else self.fill_model

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
        if request.mask is not None and spec.mask_input:
            inp[spec.mask_input] = await self._jobs.image_input(
                request.mask, inline_limit=self.inline_limit, what="mask"
            )
        return inp

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image, or finish the prediction ``request.job_id`` names.

        Raises:
            InvalidRequest: The model is not in the input table, or a mask comes without an
                init image, does not decode or is not the image's size (nothing is sent in
                these cases), or Replicate refused the input.
            Rejected: The prediction failed on a safety/NSFW check.
            Unavailable: 5xx, timeouts, ``canceled``/``aborted`` predictions, other failures.
            RateLimited: 429, with ``retry_after`` when Replicate sent ``Retry-After``.
            BadImage: No output, or output bytes that do not decode.
        """
        extra = dict(request.params)
        model = self._model_for(request, extra.pop("model", None))
        spec = model_inputs(PROVIDER, model)
        sent: dict[str, Any] | None = None
        if not request.job_id:
            check_mask_edit(request, PROVIDER, takes_mask=spec.mask_input is not None, model=model)
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


__all__ = ["DEFAULT_FILL_MODEL", "PROVIDER", "ReplicateRenderer"]
