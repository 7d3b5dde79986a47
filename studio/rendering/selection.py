"""Which take a shot publishes when no human chooses: plain functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """A reviewed take: its number, review score and verdict."""

    number: int
    score: float
    passed: bool


def choose_best(candidates: Sequence[Candidate]) -> Candidate | None:
    """The best take that passed review: highest score, lowest number on ties; ``None`` if none passed."""
    passed = [c for c in candidates if c.passed]
    if not passed:
        return None
    return min(passed, key=lambda c: (-c.score, c.number))
