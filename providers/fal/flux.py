"""Flux on fal through ``fal_client.AsyncClient`` (1.0.x): text-to-image and image-to-image.

The submit → ``on_job`` → wait → fetch flow and the client's quirks live in
:mod:`providers.fal.jobs`; this module builds the Flux arguments and reads the recipe back.
"""

from __future__ import annotations

import logging
from typing import Any

import fal_client

from providers._http.errors import summarize_inline_images
from providers._http.mask_edits import check_mask_edit
from providers.base import JobCallback, ProgressCallback, Rejected, RenderRequest, RenderResult
from providers.fal.jobs import PROVIDER, FalJobs, inline_image
from providers.model_inputs import MODEL_INPUTS, ModelInputs, is_reproducible, model_inputs, size_inputs, tunable

_log = logging.getLogger(__name__)

DEFAULT_IMG2IMG_MODEL = "fal-ai/flux/dev/image-to-image"
DEFAULT_IMG2IMG_STRENGTH = 0.95
"""fal's own default for ``strength``; sent explicitly so the recorded recipe says what ran."""
DEFAULT_FILL_MODEL = "fal-ai/flux-pro/v1/fill"
"""Where a mask edit goes unless its params name another endpoint that takes a mask."""


class FalRenderer:
    """Flux on fal (``fal-ai/flux/schnell`` by default; ``fal-ai/flux/dev`` works too).

    Each endpoint gets only the arguments its schema has
    (:data:`providers.model_inputs.MODEL_INPUTS`; an endpoint missing there is refused before
    anything is sent). Text-to-image sends ``image_size`` as ``{width, height}`` and
    ``enable_safety_checker: true``. A request with ``init_image`` goes to the image-to-image
    endpoint instead (``img2img_model``) with ``image_url`` (the image inline as a data URI) and
    ``strength`` (how far to move away from the image; :data:`DEFAULT_IMG2IMG_STRENGTH` when the
    request has none); that endpoint keeps the input image's size, so no ``image_size`` is sent,
    and the endpoint is recorded in ``params["model"]`` so a replay through this adapter goes to
    it again.

    fal returns the seed it actually used; that one is recorded and the take is marked
    reproducible (fal: same seed + prompt + model version → same image). ``has_nsfw_concepts``
    true for the image raises :class:`~providers.base.Rejected`. Flux has no negative prompt,
    so ``negative`` is ignored. ``request.params`` may set the endpoint's other arguments
    (steps, guidance, ...); arguments the request itself decides (prompt, seed, size, image,
    strength) and names the endpoint lacks are not taken from them. ``model`` in the params
    picks the endpoint in either mode.

    A request with a ``mask`` (white = change) is a targeted edit of its ``init_image``: it goes
    to FLUX.1 [pro] Fill (``fill_model``, or an endpoint in the params that takes a mask) with
    ``image_url`` + ``mask_url`` + ``prompt`` (both images inline); fal changes only inside the
    mask and answers at the image's size. Fill has no strength, so none is sent; the endpoint is
    recorded in ``params["model"]`` like image-to-image's.

    Args:
        key: fal API key (``Authorization: Key``).
        base_url: Queue root; tests point it at a fake.
        model: fal endpoint id for text-to-image.
        img2img_model: fal endpoint id for requests with an ``init_image``.
        fill_model: fal endpoint id for requests with a ``mask`` (and an ``init_image``).
        client: Preconfigured client; built from ``key`` when ``None``.
        timeout: Seconds for the submit request and for the image download.
        max_wait: Seconds to wait for the job before :class:`~providers.base.Unavailable` (the
            job keeps running).
        poll_interval: Seconds between status polls.
    """

    name = PROVIDER

    def __init__(
        self,
        key: str,
        *,
        base_url: str = "https://queue.fal.run",
        model: str = "fal-ai/flux/schnell",
        img2img_model: str = DEFAULT_IMG2IMG_MODEL,
        fill_model: str = DEFAULT_FILL_MODEL,
        client: fal_client.AsyncClient | None = None,
        timeout: float = 120,
        max_wait: float = 600,
        poll_interval: float = 0.5,
    ) -> None:
        self._jobs = FalJobs(
            key, base_url=base_url, client=client, timeout=timeout, max_wait=max_wait, poll_interval=poll_interval
        )
        self.model = model
        self.img2img_model = img2img_model
        self.fill_model = fill_model

    def __repr__(self) -> str:
        return f"FalRenderer(model={self.model!r}, base_url={self._jobs.base_url!r})"

    def _model_for(self, request: RenderRequest, asked: object) -> str:
        """The endpoint to call: a mask edit goes to a Fill endpoint whatever else would be used."""
        if request.mask is not None:
            row = None if asked is None else MODEL_INPUTS[PROVIDER].get(str(asked))
            return str(asked) if row is not None and row.mask_input else self.fill_model
        if asked is not None:
            return str(asked)
        return self.img2img_model if request.init_image is not None else self.model

    def _arguments(
        self, request: RenderRequest, spec: ModelInputs, model: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        kept, unknown = tunable(spec, extra)
        if unknown:
            _log.info("%s %s has no argument named %s: not sent", PROVIDER, model, ", ".join(unknown))
        arguments: dict[str, Any] = {"prompt": request.prompt, **spec.always, **kept}
        if request.init_image is None or not spec.image_input:
            arguments.update(size_inputs(spec, request.width, request.height))
        if request.seed is not None:
            arguments["seed"] = request.seed
        if request.init_image is not None and spec.image_input:
            # A recorded recipe holds only a marker where the image was (and strength is the
            # request's own): both come from the request, never from the params.
            arguments[spec.image_input] = inline_image(request.init_image, what="init_image")
            strength = extra.get("strength") if request.strength is None else request.strength
            if spec.strength_input:
                arguments[spec.strength_input] = DEFAULT_IMG2IMG_STRENGTH if strength is None else strength
        if request.mask is not None and spec.mask_input:
            arguments[spec.mask_input] = inline_image(request.mask, what="mask")
        return arguments

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image, or finish the request ``request.job_id`` names.

        Raises:
            InvalidRequest: ``init_image`` does not decode, the endpoint is not in the input
                table, or a mask comes without an init image, does not decode or is not the
                image's size (nothing is sent in these cases), or fal refused the request.
            Rejected: ``has_nsfw_concepts`` flagged the image.
            RateLimited: 429 after the client's own retries, with ``Retry-After`` if sent.
            Unavailable: 5xx, timeouts, unexpected payloads, ``max_wait`` exceeded.
            BadImage: No image, or bytes that do not decode.
        """
        extra = dict(request.params)
        img2img = request.init_image is not None
        model = self._model_for(request, extra.pop("model", None))
        spec = model_inputs(PROVIDER, model)
        check_mask_edit(request, PROVIDER, takes_mask=spec.mask_input is not None, model=model)
        arguments = self._arguments(request, spec, model, extra)
        request_id, result = await self._jobs.run(model, arguments, job_id=request.job_id, on_job=on_job)
        nsfw = result.get("has_nsfw_concepts")
        if nsfw is True or (isinstance(nsfw, list) and any(flag is True for flag in nsfw)):
            raise Rejected(
                f"{PROVIDER} safety checker flagged the image", provider=PROVIDER, detail="has_nsfw_concepts"
            )
        images = result.get("images") or []
        image, mime, _, _ = await self._jobs.image(images[0] if isinstance(images, list) and images else None)
        used = result.get("seed", arguments.get("seed"))  # the seed fal actually used, else the one we sent
        try:
            seed: int | None = None if used is None else int(used)
        except (TypeError, ValueError):
            seed = None
        # On resume nothing was sent now, but the same request built the same arguments then.
        params = summarize_inline_images(arguments)
        if img2img and spec.image_input:
            params["model"] = model
        elif img2img:
            params["init_image_ignored"] = True  # a text-to-image endpoint was named for it
        return RenderResult(
            image=image,
            mime_type=mime,
            model=model,
            seed=seed,
            params=params,
            reproducible=is_reproducible(spec, arguments, seed),
            revised_prompt=None,
            job_id=request_id,
        )


__all__ = ["DEFAULT_FILL_MODEL", "DEFAULT_IMG2IMG_MODEL", "DEFAULT_IMG2IMG_STRENGTH", "FalRenderer"]
