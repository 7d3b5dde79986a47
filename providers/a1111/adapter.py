"""Rendering on AUTOMATIC1111 / Forge / SD.Next: ``POST /sdapi/v1/txt2img`` and ``img2img``.

The call is synchronous: the node holds one global lock until the image is done and answers with
``{"images": [base64], "parameters", "info": "<JSON string>"}``. There is no job id, so
``on_job`` is never called and a call cut by a crash (ours or the node's) leaves nothing to
resume: the node may have rendered the image, but the next attempt renders it again.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from providers._http.errors import check_image, check_input_image
from providers.a1111.api import A1111API, PROVIDER, decode_image
from providers.a1111.progress import with_progress
from providers.base import BadImage, InvalidRequest, JobCallback, ProgressCallback, RenderRequest, RenderResult

DEFAULT_STEPS = 20
DEFAULT_CFG = 7.0
DEFAULT_SAMPLER = "Euler a"
DEFAULT_STRENGTH = 0.75
"""A1111's own default ``denoising_strength`` for img2img."""

TUNABLE = ("steps", "cfg", "sampler", "scheduler", "checkpoint")
"""The ``request.params`` this renderer reads."""
# What a recipe records beside them: a replay hands these back, and they choose nothing.
_RECORDED_ONLY = frozenset({"node", "checkpoint_hash", "denoising_strength", "version", "model"})
_log = logging.getLogger(__name__)


def _settings(params: dict[str, Any]) -> dict[str, Any]:
    """steps, cfg, sampler, scheduler and checkpoint from ``request.params``, typed and defaulted.

    Raises:
        InvalidRequest: A value of the wrong type (nothing is sent).
    """
    unknown = sorted(set(params) - set(TUNABLE) - _RECORDED_ONLY)
    if unknown:
        _log.info("%s takes no parameter named %s: not sent", PROVIDER, ", ".join(unknown))
    try:
        # None (a recipe field left empty) means the default, like an absent one
        steps = int(DEFAULT_STEPS if params.get("steps") is None else params["steps"])
        cfg = float(DEFAULT_CFG if params.get("cfg") is None else params["cfg"])
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"{PROVIDER} steps must be a whole number and cfg a number", provider=PROVIDER, detail="bad steps or cfg"
        ) from None
    text = {name: params.get(name) for name in ("sampler", "scheduler", "checkpoint")}
    if any(value is not None and not isinstance(value, str) for value in text.values()):
        raise InvalidRequest(
            f"{PROVIDER} sampler, scheduler and checkpoint are names", provider=PROVIDER, detail="bad name"
        )
    return {
        "steps": steps,
        "cfg": cfg,
        "sampler": text["sampler"] or DEFAULT_SAMPLER,
        "scheduler": text["scheduler"] or None,
        "checkpoint": text["checkpoint"] or None,
    }


def _body(request: RenderRequest, chosen: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The route (``txt2img`` or ``img2img``) and the body: only fields A1111's API models have."""
    body: dict[str, Any] = {
        "prompt": request.prompt,
        "negative_prompt": request.negative,
        "seed": -1 if request.seed is None else request.seed,
        "steps": chosen["steps"],
        "cfg_scale": chosen["cfg"],
        "width": request.width,
        "height": request.height,
        "sampler_name": chosen["sampler"],
        "batch_size": 1,
        "n_iter": 1,
        "send_images": True,
        "save_images": False,
    }
    if chosen["scheduler"]:
        body["scheduler"] = chosen["scheduler"]
    if chosen["checkpoint"]:
        # restored afterwards by default: the node's web UI keeps the model its user loaded
        body["override_settings"] = {"sd_model_checkpoint": chosen["checkpoint"]}
    if request.init_image is None:
        return "txt2img", body
    check_input_image(request.init_image, PROVIDER, what="init image")
    body["init_images"] = [base64.b64encode(request.init_image).decode("ascii")]
    body["denoising_strength"] = DEFAULT_STRENGTH if request.strength is None else request.strength
    if request.mask is not None:
        check_input_image(request.mask, PROVIDER, what="mask")
        body["mask"] = base64.b64encode(request.mask).decode("ascii")
    return "img2img", body


def _info(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer's ``info``: a JSON *string* in A1111 (an object in some forks); empty if unreadable."""
    info = answer.get("info")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            return {}
    return info if isinstance(info, dict) else {}


class A1111Renderer:
    """txt2img, or img2img when the request has an init image (and a mask: inpainting).

    ``request.params`` may set ``steps`` (default 20), ``cfg`` (7.0), ``sampler`` ("Euler a"),
    ``scheduler`` (the node's default when absent) and ``checkpoint`` (the loaded one when absent;
    sent as ``override_settings`` and restored afterwards). Without a seed A1111 draws one; the
    recipe records the seed ``info`` reports, the checkpoint and hash that ran, and
    ``reproducible=True``: the same seed and settings give the same image on the same node setup.

    Args:
        nodes: The node URLs of the pool; a request's ``node`` must be one of them (the first
            when it names none).
        auth: ``user:password`` for ``--api-auth`` (or a bearer token for a proxy); empty for none.
        timeout: Seconds one render may take, waiting for the node's lock included.
        transport: httpx transport for tests.
        progress_interval: Seconds between progress reads while a render runs.
    """

    name = PROVIDER

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        auth: str = "",
        timeout: float = 600,
        transport: httpx.AsyncBaseTransport | None = None,
        progress_interval: float = 1.0,
    ) -> None:
        self._api = A1111API(nodes, auth=auth, timeout=timeout, transport=transport)
        self.progress_interval = progress_interval

    def __repr__(self) -> str:
        return f"A1111Renderer(nodes={list(self._api.nodes)!r})"

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image on ``request.node`` (``on_job`` is never called: A1111 has no job ids).

        Raises:
            InvalidRequest: The node is not in the pool, a parameter has the wrong type, the init
                image or mask does not decode (nothing sent), or the node refused the request
                (404: unknown sampler or checkpoint; 422: a field it refused).
            AuthFailed: The node wants other credentials (401/403).
            Unavailable: 5xx, a refused, dropped or timed-out connection.
            BadImage: The answer has no decodable image.
        """
        node = self._api.node_for(request.node)
        chosen = _settings(dict(request.params))
        route, body = _body(request, chosen)
        async with self._api.client() as client:
            call = self._api.call(client, "POST", node, f"/sdapi/v1/{route}", body)
            answer = await with_progress(call, self._api, client, node, on_progress, self.progress_interval)
        if not isinstance(answer, dict):
            raise BadImage(f"{PROVIDER} answered with an unexpected shape", provider=PROVIDER, detail="not an object")
        images = answer.get("images")
        # extensions (ControlNet...) may append images of their own: the first is the render
        image = decode_image(images[0] if isinstance(images, list) and images else None)
        mime, _, _ = check_image(image, PROVIDER)
        info = _info(answer)
        return self._result(image, mime, node, body, chosen, info)

    @staticmethod
    def _result(
        image: bytes, mime: str, node: str, body: dict[str, Any], chosen: dict[str, Any], info: dict[str, Any]
    ) -> RenderResult:
        """The recipe: what was sent, corrected by what ``info`` says ran (seed, sampler, checkpoint)."""
        seed = info.get("seed") if isinstance(info.get("seed"), int) else body["seed"]
        used = seed if isinstance(seed, int) and seed >= 0 else None  # -1: drawn, and info did not say
        checkpoint = info.get("sd_model_name") or chosen["checkpoint"]
        model_hash = info.get("sd_model_hash") or None
        params: dict[str, Any] = {
            "node": node,
            "steps": chosen["steps"],
            "cfg": chosen["cfg"],
            "sampler": info.get("sampler_name") or chosen["sampler"],
            "scheduler": chosen["scheduler"],
            "checkpoint": checkpoint,
            "checkpoint_hash": model_hash,
        }
        if "denoising_strength" in body:
            params["denoising_strength"] = body["denoising_strength"]
        if info.get("version"):
            params["version"] = info["version"]
        model = str(checkpoint or "checkpoint") + (f" [{model_hash}]" if model_hash else "")
        return RenderResult(
            image=image,
            mime_type=mime,
            model=model,
            seed=used,
            params={key: value for key, value in params.items() if value is not None},
            reproducible=used is not None,
        )


__all__ = ["DEFAULT_CFG", "DEFAULT_SAMPLER", "DEFAULT_STEPS", "DEFAULT_STRENGTH", "TUNABLE", "A1111Renderer"]
