"""One take in `studio status BATCH`: a read model of :mod:`studio.views.summary`, kept apart to keep that file small.

Its ``to_json()`` keys are part of the stable `--json` output (tests/studio/test_status_json.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TakeRow"]


@dataclass(frozen=True)
class TakeRow:
    """A take in `studio status BATCH`: who made it, with what seed, its review and its cost.

    Attributes:
        take_id: ``<batch>/<shot>/<n>``.
        round: Gate round that made it.
        status: Its status.
        provider: Provider that rendered it, if any did.
        model: The model it was (or is to be) rendered with.
        seed: The seed used, else the seed planned.
        review_score: Automated review score, if reviewed.
        review_passed: Automated review verdict, if reviewed.
        review_notes: The reviewer's notes, if any.
        cost_usd: What it cost (rounded to 6 places).
        error: Why it failed, if it did.
    """

    take_id: str
    round: int
    status: str
    provider: str | None
    model: str | None
    seed: int | None
    review_score: float | None
    review_passed: bool | None
    review_notes: str | None
    cost_usd: float
    error: str | None

    def to_json(self) -> dict[str, Any]:
        """``{"take", "round", "status", "provider", "model", "seed", "review_score", "review_passed",
        "review_notes", "cost_usd", "error"}``."""
        return {
            "take": self.take_id,
            "round": self.round,
            "status": self.status,
            "provider": self.provider,
            "model": self.model,
            "seed": self.seed,
            "review_score": self.review_score,
            "review_passed": self.review_passed,
            "review_notes": self.review_notes,
            "cost_usd": self.cost_usd,
            "error": self.error,
        }
