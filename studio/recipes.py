"""A take's recipe: everything needed to replay or vary it, as plain JSON-ready data."""

from __future__ import annotations

from typing import Any

from studio.models import Take


def recipe_of(take: Take) -> dict[str, Any]:
    """The recipe of ``take`` (stable keys; also written to manifests and, later, image files)."""
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
