"""A take's recipe: everything needed to replay or vary it, as plain JSON-ready data."""

from __future__ import annotations

from typing import Any

from studio.models import Batch, Shot, Take

RECIPE_VERSION = 1


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
        "render_key": take.asset_key,
        "final_key": take.final_key,
        "review": {"score": take.review_score, "passed": take.review_passed, "notes": take.review_notes},
    }


def take_recipe(take: Take, shot: Shot, batch: Batch) -> dict[str, Any]:
    """The recipe a published file carries, in its metadata and in the batch's manifest.

    One function builds it for both, so a file and the manifest line about it hold the same
    dict. Everything here is read from the catalog (no clock, no file bytes), so publishing
    the same take twice writes the same bytes.

    Args:
        take: The published take.
        shot: Its shot.
        batch: Its batch.

    Returns:
        :func:`recipe_of` plus ``recipe_version``, ``batch_id``, ``shot_id``, ``project``,
        ``upscale``, ``init_key`` and ``strength`` (image-to-image), and ``image_sha256``: the
        sha256 of the image as the studio made it, before any metadata was written into the
        file (asset keys are content hashes).
    """
    key = take.final_key or take.asset_key
    return {
        "recipe_version": RECIPE_VERSION,
        **recipe_of(take),
        "batch_id": batch.id,
        "shot_id": shot.shot_id,
        "project": batch.project_name,
        "upscale": shot.upscale,
        "init_key": take.init_key,
        "strength": take.strength,
        "image_sha256": key.split(".", 1)[0] if key else None,
    }
