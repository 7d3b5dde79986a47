"""Shots waiting at an approval gate, for the owner's inbox and the client's review page.

Read from the catalog: a shot's stage is ``awaiting_approval`` from the moment its gate opens,
and its ``updated_at`` is when it started waiting. A decision is written a moment before the
workflow moves the shot on, so a shot with a decision newer than its wait is already answered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from studio.catalog.models import Approval, Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.states import GateAction, ShotStage, TakeStatus

WAITING_STAGE = ShotStage.AWAITING_APPROVAL


@dataclass(frozen=True)
class GateChoice:
    """A take one may approve at a gate.

    Attributes:
        number: Take number within the shot (what a decision names).
        take_id: ``<batch>/<shot>/<n>``.
        image_key: Asset key of the image to show.
        review_score: Automated review score, if any.
        review_passed: Automated review verdict, if any.
        round: Gate round that made it (1, then +1 each time changes were requested).
    """

    number: int
    take_id: str
    image_key: str
    review_score: float | None
    review_passed: bool | None
    round: int = 1


@dataclass(frozen=True)
class PendingGate:
    """A shot waiting for a human, with the takes on offer.

    ``position`` is its storyboard order; ``change_requests`` are the notes of earlier rounds'
    "changes" decisions, oldest first.
    """

    batch_id: str
    project: str
    shot_id: str
    shot_key: str
    position: int
    prompt: str
    waiting_since: datetime
    choices: tuple[GateChoice, ...]
    change_requests: tuple[str, ...] = ()

    @property
    def suggested(self) -> int | None:
        """The take the automated review liked best (passed first, then score), if any was reviewed."""
        scored = [c for c in self.choices if c.review_score is not None]
        if not scored:
            return None
        return min(scored, key=lambda c: (not c.review_passed, -(c.review_score or 0.0), c.number)).number


def _choices(takes: list[Take]) -> tuple[GateChoice, ...]:
    # Only takes with an image can be approved: the gate offers the takes that were reviewed.
    return tuple(
        GateChoice(t.number, t.id, t.final_key or t.asset_key or "", t.review_score, t.review_passed, t.round)
        for t in sorted(takes, key=lambda t: t.number)
        if t.status != TakeStatus.FAILED and (t.final_key or t.asset_key)
    )


def pending_gates(catalog: Catalog, *, batch_id: str | None = None) -> list[PendingGate]:
    """Every shot waiting at a gate, oldest first (only ``batch_id``'s when given)."""
    with catalog.session() as s:
        query = select(Shot).where(Shot.stage == WAITING_STAGE)
        if batch_id is not None:
            query = query.where(Shot.batch_id == batch_id)
        shots = list(s.exec(query.order_by(col(Shot.updated_at), col(Shot.batch_id), col(Shot.position))))
        if not shots:
            return []
        keys = [shot.key for shot in shots]
        decided = dict(
            s.exec(
                select(Approval.shot_key, func.max(Approval.decided_at))
                .where(col(Approval.shot_key).in_(keys))
                .group_by(Approval.shot_key)
            ).all()
        )
        shots = [shot for shot in shots if shot.key not in decided or decided[shot.key] < shot.updated_at]
        takes: dict[str, list[Take]] = defaultdict(list)
        for take in s.exec(select(Take).where(col(Take.shot_key).in_(keys))):
            takes[take.shot_key].append(take)
        batch_ids = {shot.batch_id for shot in shots}
        requests: dict[str, list[str]] = defaultdict(list)
        asked = select(Approval).where(col(Approval.shot_key).in_(keys), Approval.decision == GateAction.CHANGES)
        for approval in s.exec(asked.order_by(col(Approval.round))):
            requests[approval.shot_key].append(approval.note)
        names = {b.id: b.project_name for b in s.exec(select(Batch).where(col(Batch.id).in_(batch_ids)))}
    return [
        PendingGate(
            batch_id=shot.batch_id,
            project=names.get(shot.batch_id, shot.batch_id),
            shot_id=shot.shot_id,
            shot_key=shot.key,
            position=shot.position,
            prompt=shot.prompt,
            waiting_since=shot.updated_at,
            choices=_choices(takes[shot.key]),
            change_requests=tuple(requests[shot.key]),
        )
        for shot in shots
    ]
