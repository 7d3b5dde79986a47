"""Closing a batch, and squaring it with what really happened to its shots.

A batch's end must tell the truth: it says ``published`` only when the catalog holds a final
state for every shot, and the counts it reports are the catalog's. A shot that ended without
writing its outcome (a worker of an older studio gave up during an outage) is written down as
``failed``, with the reason, so ``studio rerun BATCH --only failed`` renders it again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from studio.catalog.models import Batch, Shot
from studio.catalog.store import Catalog
from studio.states import ENDED_SHOT_STAGES, BatchState, ShotStage

FINAL_STAGES = frozenset(ENDED_SHOT_STAGES)
# A batch in one of these states has seen every shot end: a shot still in flight there is lost.
ENDED_BATCH_STATES = frozenset({BatchState.PUBLISHED, BatchState.FAILED})
LOST = (
    "ended without an outcome (its workflow closed while the shot was {stage}); render it again with "
    "`studio rerun {batch} --only failed`"
)


@dataclass
class Tally:
    """Where a batch's rendered shots ended.

    Attributes:
        outcomes: Shots per final stage (published, rejected, failed).
        state: The batch's state: ``published`` when any shot was, else ``failed``.
        lost: Shots found without a final stage and now recorded as failed.
    """

    outcomes: dict[str, int]
    state: str
    lost: list[str] = field(default_factory=list)


def rendered_shots(batch: Batch, shots: list[Shot]) -> list[Shot]:
    """The shots a batch rendered itself: a rerun's kept shots were carried over, not rendered."""
    if batch.kind == "rerun":
        only = set(batch.rerun_only)
        return [s for s in shots if s.shot_id in only]
    return shots


def mark_lost(catalog: Catalog, batch: Batch, shots: list[Shot]) -> list[str]:
    """Record every shot of ``shots`` without a final stage as failed; returns their ids."""
    lost = []
    for shot in shots:
        if shot.stage not in FINAL_STAGES:
            catalog.update_shot(shot.key, stage=ShotStage.FAILED, error=LOST.format(stage=shot.stage, batch=batch.id))
            lost.append(shot.shot_id)
    return lost


def close_batch(catalog: Catalog, batch_id: str) -> Tally:
    """Square a batch whose shots have all ended with the catalog, and set its final state.

    Call it once the batch's workflow has seen every shot end. Shots the catalog still shows
    in flight are recorded as failed (see :data:`LOST`).
    """
    batch = catalog.batch(batch_id)
    shots = rendered_shots(batch, catalog.shots(batch_id))
    lost = mark_lost(catalog, batch, shots)
    if lost:
        shots = rendered_shots(batch, catalog.shots(batch_id))
    outcomes = dict(Counter(s.stage for s in shots))
    published = bool(catalog.publications(batch_id))
    state = BatchState.PUBLISHED if published else BatchState.FAILED
    catalog.set_batch_state(batch_id, state)
    return Tally(outcomes, state, lost)
