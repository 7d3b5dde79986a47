"""The render cache's decisions: which providers may reuse an earlier image, and the recipe's key.

Plain functions, no I/O. A take whose recipe hash matches an earlier take that rendered and
reproduces exactly gets that take's image instead of a new call (:mod:`studio.catalog.render_cache`
finds it, :func:`studio.catalog.stages.begin_render` copies it). The hash covers only what is
known *before* the call (the configured model, not the one the vendor reports), so the lookup
happens before anything is paid for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from providers import table
from studio.catalog.models import Take
from studio.rendering.params import WORKFLOW_PARAM, provider_params
from studio.review.rework import EditWay, edit_prompt, edit_way

__all__ = ["RECIPE_VERSION", "REPRODUCE_EXACTLY", "cacheable", "configured_model", "recipe_hash", "take_recipe_hash"]

RECIPE_VERSION = 1
"""Part of every hash: bumped when what the hash covers changes, so old keys stop matching."""

# Providers whose renders come back the same for the same recipe, so an earlier image *is* the
# image a new call would make. Kept by hand (a new seeded provider is not cached until someone
# checks it reproduces), and each must also be `seeded` in the provider table:
# - local: a procedural renderer; same inputs, same bytes.
# - replicate, fal: Flux with a seed; whether the model keeps that promise is recorded per take
#   (RenderResult.reproducible, from providers.model_inputs.is_reproducible) and the cache reuses
#   only takes that say so.
# - comfyui: the workflow (its sha256 is in the hash) with a seed on the creator's own nodes.
# - a1111: a seed on the creator's own nodes, but only with a named checkpoint (see take_recipe_hash).
# Never mistral or gemini: they take no seed and say so (reproducible=False on every result).
REPRODUCE_EXACTLY = frozenset({"local", "replicate", "fal", "comfyui", "a1111"})
# An A1111 node renders with whatever checkpoint its user loaded unless the take names one.
_NEEDS_CHECKPOINT = frozenset({"a1111"})


def cacheable(provider: str) -> bool:
    """Whether ``provider``'s renders may be reused: seeded in the table and known to reproduce exactly."""
    name = table.canonical(provider)
    spec = table.spec_of(name)
    return spec is not None and spec.seeded and name in REPRODUCE_EXACTLY


def configured_model(provider: str, adapter_model: str | None) -> str | None:
    """The model a render will ask for, known before the call: the adapter's (from settings), else the table's."""
    if adapter_model:
        return adapter_model
    spec = table.spec_of(table.canonical(provider))
    return spec.models.get("render") if spec is not None else None


def recipe_hash(
    *,
    provider: str,
    model: str | None,
    seed: int,
    prompt: str,
    negative: str,
    width: int,
    height: int,
    params: Mapping[str, Any],
    init_key: str | None = None,
    mask_key: str | None = None,
    strength: float | None = None,
    workflow_sha256: str | None = None,
) -> str:
    """The hex sha256 of everything that decides a render's pixels: the render cache's key.

    Stable across processes and machines: canonical JSON (keys sorted, compact) of every field.

    Args:
        provider: The provider's canonical name.
        model: The model asked for (with its version when the setting names one).
        seed: The seed sent.
        prompt: The prompt sent (a targeted edit's words included).
        negative: The negative prompt.
        width: Width asked for.
        height: Height asked for.
        params: The provider's own parameters as sent (steps, cfg, checkpoint, ...).
        init_key: Asset key of the image rendered from, if any.
        mask_key: Asset key of the mask sent, if any.
        strength: How far from the init image, if one is sent.
        workflow_sha256: The ComfyUI workflow's sha256, if any.

    Raises:
        TypeError: ``params`` holds something JSON cannot write.
    """
    recipe = {
        "v": RECIPE_VERSION,
        "provider": provider,
        "model": model,
        "seed": seed,
        "prompt": prompt,
        "negative": negative,
        "width": width,
        "height": height,
        "params": dict(params),
        "init_key": init_key,
        "mask_key": mask_key,
        "strength": strength,
        "workflow_sha256": workflow_sha256,
    }
    canonical = json.dumps(recipe, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def take_recipe_hash(take: Take, provider: str, model: str | None) -> str | None:
    """The recipe hash of rendering ``take`` with ``provider`` now; ``None`` when it may not be cached.

    Hashes what the render activity sends (:meth:`pipelines.activities.rendering.RenderActivities._request`):
    the prompt as this provider gets it, its own params, the mask only when it is sent as one.

    Args:
        take: The take about to render.
        provider: The provider about to render it.
        model: The model configured for it (:func:`configured_model`).

    Returns:
        The hash; ``None`` for a provider that does not reproduce exactly, a take without a seed
        (the vendor would draw one), or an A1111 take whose checkpoint is the node's choice.
    """
    name = table.canonical(provider)
    if not cacheable(name) or take.seed is None:
        return None
    params = provider_params(take.params, name)
    if name in _NEEDS_CHECKPOINT and not params.get("checkpoint"):
        return None
    way = edit_way(name, take.mask_key is not None)
    workflow = params.get(WORKFLOW_PARAM)
    return recipe_hash(
        provider=name,
        model=model,
        seed=take.seed,
        prompt=edit_prompt(take, way),
        negative=take.negative,
        width=take.width,
        height=take.height,
        params=params,
        init_key=take.init_key,
        mask_key=take.mask_key if way == EditWay.MASK else None,
        strength=take.strength if take.init_key else None,
        # The workflow asset is named by the sha256 of its canonical JSON (studio.batches.launch).
        workflow_sha256=PurePosixPath(workflow).stem if isinstance(workflow, str) else None,
    )
