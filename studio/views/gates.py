"""Shots waiting at an approval gate, for the owner's inbox and the client's review page.

Read from the catalog: a shot's stage is ``awaiting_approval`` from the moment its gate opens,
and its ``updated_at`` is when it started waiting. A decision is written a moment before the
workflow moves the shot on, so a shot with a decision newer than its wait is already answered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from studio.catalog.models import Approval, Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.states import GateAction, ShotStage, TakeStatus

WAITING_STAGE = ShotStage.AWAITING_APPROVAL
# A shot in one of these stages has left its gate for good: no new round will come.
CLOSED_STAGES = (ShotStage.PUBLISHING, ShotStage.PUBLISHED, ShotStage.REJECTED, ShotStage.FAILED, ShotStage.CANCELLED)


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
class GateRound:
    """The takes one round of a gate offered.

    Attributes:
        number: 1 for the first takes, then +1 each time changes were requested.
        note: The change request that started this round (``None`` for round 1).
        choices: The round's takes, by number.
    """

    number: int
    note: str | None
    choices: tuple[GateChoice, ...]


@dataclass(frozen=True)
class PendingGate:
    """A shot waiting for a human, with the takes on offer.

    ``position`` is its storyboard order; ``change_requests`` are the notes of earlier rounds'
    "changes" decisions, oldest first; ``due_at`` is when the gate's deadline passes (``None``:
    no deadline, or a gate opened before due times were recorded; aware, UTC).
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
    due_at: datetime | None = None

    @property
    def suggested(self) -> int | None:
        """The take the automated review liked best (passed first, then score), if any was reviewed."""
        scored = [c for c in self.choices if c.review_score is not None]
        if not scored:
            return None
        return min(scored, key=lambda c: (not c.review_passed, -(c.review_score or 0.0), c.number)).number

    @property
    def rounds(self) -> tuple[GateRound, ...]:
        """The choices grouped by round, newest round first; round ``n`` > 1 carries the note that asked for it."""
        numbers = sorted({c.round for c in self.choices}, reverse=True)

        def note(number: int) -> str | None:
            # The n-th "changes" decision (oldest first) started round n + 1.
            index = number - 2
            return self.change_requests[index] if 0 <= index < len(self.change_requests) else None

        return tuple(
            GateRound(number, note(number), tuple(c for c in self.choices if c.round == number)) for number in numbers
        )


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite gives back naive values; the catalog writes UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


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
            due_at=_utc(shot.gate_due_at),
        )
        for shot in shots
    ]


@dataclass(frozen=True)
class Rework:
    """A shot whose gate was answered "changes" and whose new round is not ready yet.

    Attributes:
        shot_id: The shot's id within its batch.
        position: Its storyboard order.
        note: What was asked for.
    """

    shot_id: str
    position: int
    note: str


def reworks(catalog: Catalog, *, batch_id: str) -> list[Rework]:
    """Shots of ``batch_id`` rendering a new round someone asked for, in storyboard order.

    The stage alone cannot tell: a shot keeps ``awaiting_approval`` in the catalog until its next
    round reopens the gate. So a shot is in rework when its latest decision asked for changes,
    it has not left for good, and its gate has not reopened since that decision.
    """
    with catalog.session() as s:
        shots = list(s.exec(select(Shot).where(Shot.batch_id == batch_id, col(Shot.stage).not_in(CLOSED_STAGES))))
        latest: dict[str, Approval] = {}
        for approval in s.exec(select(Approval).where(Approval.batch_id == batch_id).order_by(col(Approval.id))):
            latest[approval.shot_key] = approval
    found = []
    for shot in shots:
        last = latest.get(shot.key)
        if last is None or last.decision != GateAction.CHANGES:
            continue
        if shot.stage == WAITING_STAGE and last.decided_at < shot.updated_at:
            continue  # the gate reopened with the new round
        found.append(Rework(shot.shot_id, shot.position, last.note))
    return sorted(found, key=lambda r: r.position)


GateSignature = tuple[tuple[str, str, datetime, datetime | None, int, int], ...]


def gate_signature(catalog: Catalog, *, batch_id: str | None = None) -> GateSignature:
    """A small fingerprint of the gates a page shows; it changes whenever such a page would.

    One query, cheap enough to poll every few seconds from an open page: per shot that waits
    (or, for one batch, that ever had a decision) its stage, when the stage was last written,
    its latest decision, newest round and how many takes are on offer. A new round, a decision
    made elsewhere, a gate opening or closing each change it.
    """
    shot_key = col(Shot.key)
    imaged = and_(
        col(Take.shot_key) == shot_key,
        col(Take.status) != TakeStatus.FAILED,
        or_(col(Take.final_key).is_not(None), col(Take.asset_key).is_not(None)),
    )
    waiting = col(Shot.stage) == WAITING_STAGE
    query = sa_select(
        shot_key,
        col(Shot.stage),
        col(Shot.updated_at),
        sa_select(func.max(Approval.decided_at)).where(col(Approval.shot_key) == shot_key).scalar_subquery(),
        sa_select(func.coalesce(func.max(Take.round), 0)).where(imaged).scalar_subquery(),
        sa_select(func.count()).where(imaged).scalar_subquery(),
    )
    if batch_id is None:
        query = query.where(waiting)
    else:
        # A batch's page also follows its shots in rework, so it notices a rework that fails.
        ever_decided = sa_select(col(Approval.id)).where(col(Approval.shot_key) == shot_key).exists()
        query = query.where(col(Shot.batch_id) == batch_id, or_(waiting, ever_decided))
    with catalog.engine.connect() as conn:
        rows = conn.execute(query.order_by(shot_key)).all()
    # Takes of a round still rendering count only once their gate (re)opens: no redraw per take.
    return tuple(
        (key, stage, updated, last, newest, count)
        if stage == WAITING_STAGE and (last is None or last < updated)
        else (key, stage, updated, last, 0, 0)
        for key, stage, updated, last, newest, count in rows
    )
