"""A page of batches' headlines (the Batches page), from per-batch counts rather than every row.

:func:`studio.views.status.batch_summary` loads a batch's shots, takes and calls to show one batch
in full; a page of 30 batches needs only their counts, read here in one aggregate query each for
the whole page (:class:`studio.catalog.board_queries.BoardQueries`). The numbers are the ones
:func:`~studio.views.status.stage_board` and :func:`~studio.views.status.waiting_for` compute from
the rows (tests/studio/test_board_counts.py holds them equal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from studio.catalog.board_queries import TakeCounts
from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.outages.notes import current_outages
from studio.states import GateAction, ShotStage
from studio.views.status import SHOT_STAGES, TERMINAL_STATES, batch_state
from studio.views.summary import ApprovalProgress, CountedBy, StageBoard, StageProgress, WaitingFor


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


@dataclass(frozen=True)
class BatchHeadline:
    """What a Batches-page line shows of a batch: the parts of a batch summary it reads.

    Attributes mean what :class:`studio.views.summary.BatchSummary`'s of the same name do.
    """

    batch_id: str
    project: str
    state: str
    created_at: str | None
    finished_at: str | None
    error: str | None
    shots: CountedBy
    stages: StageBoard
    waiting_for: tuple[WaitingFor, ...]


def counted_board(batch: Batch, stages: Counter[str], takes: TakeCounts, decided: Counter[str]) -> StageBoard:
    """:func:`studio.views.status.stage_board` from counts instead of rows."""
    total_takes = takes.takes or batch.total_takes
    has_shots = sum(stages.values()) > 0
    return StageBoard(
        storyboard=StageProgress(done=sum(stages.values()), total=batch.total_shots),
        render=StageProgress(done=takes.rendered, failed=takes.failed, total=total_takes),
        upscale=StageProgress(done=takes.upscaled, total=takes.upscaling if has_shots else total_takes),
        review=StageProgress(done=takes.reviewed, passed=takes.passed, total=total_takes),
        approval=ApprovalProgress(
            required=batch.approval_required,
            waiting=stages.get(ShotStage.AWAITING_APPROVAL, 0),
            approved=decided.get(GateAction.APPROVE, 0),
            rejected=decided.get(GateAction.REJECT, 0),
        ),
        publish=StageProgress(done=stages.get(ShotStage.PUBLISHED, 0), total=batch.total_shots),
    )


def batch_headlines(catalog: Catalog, batches: Sequence[Batch]) -> list[BatchHeadline]:
    """The headline of each of ``batches``, in their order: five queries whatever their number."""
    ids = [batch.id for batch in batches]
    stages, takes = catalog.shot_stage_counts(ids), catalog.take_counts(ids)
    decided = catalog.decision_counts(ids)
    stalled = [b.id for b in batches if b.state not in TERMINAL_STATES and stages[b.id][ShotStage.WAITING_FOR_PROVIDER]]
    errors = catalog.first_shot_errors(stalled, ShotStage.WAITING_FOR_PROVIDER)
    live = [b for b in batches if b.state not in TERMINAL_STATES]
    outages = tuple(
        WaitingFor(what=o["for"], shots=None, since=o["since"], last_error=o["last_error"])
        for o in (current_outages(catalog) if live else ())
    )
    lines = []
    for batch in batches:
        counts = stages[batch.id]
        waiting: tuple[WaitingFor, ...] = ()
        if batch.state not in TERMINAL_STATES:
            n = counts.get(ShotStage.WAITING_FOR_PROVIDER, 0)
            provider = (
                (WaitingFor(what="a provider", shots=n, since=None, last_error=errors.get(batch.id)),) if n else ()
            )
            waiting = provider + outages
        lines.append(
            BatchHeadline(
                batch_id=batch.id,
                project=batch.project_name,
                state=batch_state(batch, counts),
                created_at=_iso(batch.created_at),
                finished_at=_iso(batch.finished_at),
                error=batch.error,
                shots=CountedBy(total=batch.total_shots, by={stage: counts.get(stage, 0) for stage in SHOT_STAGES}),
                stages=counted_board(batch, counts, takes[batch.id], decided[batch.id]),
                waiting_for=waiting,
            )
        )
    return lines
