"""A take's recipe: everything needed to replay or vary it, as plain JSON-ready data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from providers.table import FALLBACK
from studio.catalog.models import Batch, ProviderAttempt, Shot, Take
from studio.images.containers import MalformedImage
from studio.images.metadata import find_c2pa
from studio.states import CallStatus

RECIPE_VERSION = 1
# The worker writes down no attempt for a free in-process call, and the only in-process upscaler
# is the local one (pipelines.activities.provider_registry): an upscale with no attempt row was made by it.
IN_PROCESS_UPSCALER = FALLBACK


def recipe_of(take: Take) -> dict[str, Any]:
    """The recipe of ``take`` (stable keys; the part of :func:`take_recipe` a take alone gives)."""
    return {
        "take_id": take.id,
        "provider": take.provider,
        "model": take.model,
        "seed": take.seed_used,
        "reproducible": take.reproducible,
        "prompt": take.prompt,
        "negative": take.negative,
        "revised_prompt": take.revised_prompt,
        "size": [take.width, take.height],
        "params": take.params,
        "parent_take_id": take.parent_take_id,
        # A targeted rework: the mask it was edited inside and the note and pins the mask was drawn
        # from (params["edit"] says whether the provider took the mask, the words or only the prompt).
        "mask_key": take.mask_key,
        "edit": take.edit,
        "render_key": take.asset_key,
        "final_key": take.final_key,
        "review": {"score": take.review_score, "passed": take.review_passed, "notes": take.review_notes},
    }


def take_recipe(
    take: Take,
    shot: Shot,
    batch: Batch,
    *,
    upscaler: str | None = None,
    provider_credentials: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The recipe a published file carries, in its metadata and in the batch's manifest.

    Publishing builds it once and writes it into the file; the manifest reads it back from
    the file, so both hold the same dict. Everything here is read from the catalog and the
    asset store (no clock), so publishing the same take twice writes the same bytes.

    Args:
        take: The published take.
        shot: Its shot.
        batch: Its batch.
        upscaler: What upscaled the final image (:func:`upscaler_of`).
        provider_credentials: The provider's signed original (:func:`provider_credentials`).

    Returns:
        :func:`recipe_of` plus ``recipe_version``, ``batch_id``, ``shot_id``, ``project``,
        ``upscale``, ``upscaler``, ``init_key`` and ``strength`` (image-to-image),
        ``provider_credentials``, and ``image_sha256``: the sha256 of the image as the studio
        made it, before any metadata was written into the file (asset keys are content hashes).
    """
    key = take.final_key or take.asset_key
    return {
        "recipe_version": RECIPE_VERSION,
        **recipe_of(take),
        "batch_id": batch.id,
        "shot_id": shot.shot_id,
        "project": batch.project_name,
        "upscale": shot.upscale,
        "upscaler": upscaler,
        "init_key": take.init_key,
        "strength": take.strength,
        "image_sha256": key.split(".", 1)[0] if key else None,
        "provider_credentials": provider_credentials,
    }


def upscaler_of(take: Take, attempts: Iterable[ProviderAttempt]) -> str | None:
    """The provider that upscaled ``take``'s final image; ``None`` when the final image is the render.

    Args:
        take: The take.
        attempts: Its provider attempts (``catalog.attempts(take_id=...)``).
    """
    if take.final_key is None or take.final_key == take.asset_key:
        return None
    done = [
        a.provider
        for a in attempts
        if a.take_id == take.id and a.stage == "upscale" and a.status == CallStatus.SUCCEEDED
    ]
    return done[-1] if done else IN_PROCESS_UPSCALER


def provider_credentials(take: Take, render: bytes) -> dict[str, Any] | None:
    """What the provider's original image carries that the published file may not: C2PA credentials.

    An upscale (new pixels) cannot keep the vendor's manifest valid; the original stays in the
    asset store under ``take.asset_key`` and the recipe names it, so the signed file can still be
    handed over (and, with content credentials on, it is the published file's parent ingredient:
    :mod:`studio.credentials`).

    Args:
        take: The take.
        render: The bytes of ``take.asset_key`` (what the provider delivered).

    Returns:
        ``None`` when the original carries none; else ``asset_key`` (the original in the
        store), ``carries`` (``"C2PA content credentials"``), ``where`` (``"png caBX chunk"``,
        ``"jpeg APP11 JUMBF"`` or ``"webp C2PA chunk"``) and ``in_published_file`` (whether the
        published file is that original, left byte for byte with its credentials).
    """
    try:
        where = find_c2pa(render)
    except MalformedImage:
        return None  # a damaged original: nothing in it can be vouched for
    if where is None or take.asset_key is None:
        return None
    return {
        "asset_key": take.asset_key,
        "carries": "C2PA content credentials",
        "where": where,
        "in_published_file": take.final_key in (None, take.asset_key),
    }
