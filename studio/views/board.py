"""A page of batches' headlines (the Batches page), from per-batch counts rather than every row.

:func:`studio.views.status.batch_summary` shows one batch in full; a page of 30 batches needs only
their counts, read here in one aggregate query each for the whole page
(:class:`studio.catalog.board_queries.BoardQueries`). The numbers are the ones `studio status BATCH`
prints (tests/studio/test_board_counts.py holds them equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.outages.notes import current_outages
from studio.states import ShotStage
from studio.views.stage_counts import counted_board
from studio.views.status import SHOT_STAGES, TERMINAL_STATES, batch_state
from studio.views.summary import CountedBy, StageBoard, WaitingFor


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
