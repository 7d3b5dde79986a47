"""A batch's spending: what it cost, what its budget is, and the catalog side of a budget gate.

When the next render would take a batch past its budget, the shots that want it wait at a
budget gate (no compute, no spend). Someone then raises the budget or stops spending; this
module writes that down, and :func:`pipelines.client.batches.answer_budget` wakes the waiting shots.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from studio.catalog.call_guard import committed_spend, lock_batch, over_budget
from studio.catalog.models import Batch, ProviderAttempt, Shot, utcnow
from studio.catalog.store import Catalog
from studio.errors import NotFound, StudioError
from studio.states import CallStatus, ShotStage


class BudgetError(StudioError):
    """A budget change that cannot be made.

    Attributes:
        batch_id: The batch.
        reason: Why.
    """

    def __init__(self, batch_id: str, reason: str) -> None:
        super().__init__(f"{batch_id}: {reason}")
        self.batch_id = batch_id
        self.reason = reason


@dataclass(frozen=True)
class Spend:
    """What a batch has spent against its budget.

    Attributes:
        spent_usd: Succeeded calls.
        committed_usd: Spent plus the calls in flight (reserved at their price).
        budget_usd: The cap, or ``None``.
        stopped: Spending was stopped at the budget gate.
        waiting: Shot ids waiting at the budget gate.
    """

    spent_usd: float
    committed_usd: float
    budget_usd: float | None
    stopped: bool
    waiting: list[str]


def batch_spend(catalog: Catalog, batch_id: str) -> Spend:
    """The batch's spending and who waits at its budget gate."""
    with catalog.session() as s:
        batch = s.get(Batch, batch_id)
        if batch is None:
            raise NotFound("batch", batch_id)
        rows = s.exec(
            select(ProviderAttempt.status, func.sum(ProviderAttempt.cost_usd))
            .where(ProviderAttempt.batch_id == batch_id)
            .group_by(ProviderAttempt.status)
        ).all()
        by_status = {status: float(total or 0.0) for status, total in rows}
        waiting = list(
            s.exec(
                select(Shot.shot_id)
                .where(Shot.batch_id == batch_id, Shot.stage == ShotStage.AWAITING_BUDGET)
                .order_by(col(Shot.position))
            )
        )
        spent = by_status.get(CallStatus.SUCCEEDED, 0.0)
        return Spend(
            spent_usd=round(spent, 6),
            committed_usd=round(spent + by_status.get(CallStatus.STARTED, 0.0), 6),
            budget_usd=batch.budget_usd,
            stopped=batch.spending_stopped,
            waiting=waiting,
        )


def raise_budget(catalog: Catalog, batch_id: str, usd: float) -> Spend:
    """Set a new, higher budget (and lift a stop); the waiting shots may then go on.

    Raises:
        BudgetError: ``usd`` is not above what the batch has already committed.
    """
    spend = batch_spend(catalog, batch_id)
    if usd <= spend.committed_usd:
        raise BudgetError(
            batch_id, f"a budget of ${usd:.2f} is not above the ${spend.committed_usd:.2f} already spent or committed"
        )
    with catalog.session() as s:
        batch = s.get(Batch, batch_id)
        assert batch is not None
        batch.budget_usd, batch.spending_stopped = usd, False
        s.add(batch)
    return batch_spend(catalog, batch_id)


def stop_spending(catalog: Catalog, batch_id: str) -> Spend:
    """Stop the batch's paid calls for good: waiting shots fail the takes they could not render."""
    with catalog.session() as s:
        batch = s.get(Batch, batch_id)
        if batch is None:
            raise NotFound("batch", batch_id)
        batch.spending_stopped = True
        s.add(batch)
    return batch_spend(catalog, batch_id)


def hold_at_budget(catalog: Catalog, shot_key: str, price: float) -> str:
    """Park a shot at its batch's budget gate unless the budget moved meanwhile; one transaction.

    Checking and parking together means a budget raised at any moment is never missed: either
    the raise came first and the shot goes on, or the shot is parked first and whoever raised
    the budget sees it waiting and wakes it.

    Returns:
        ``"wait"`` (parked: stage ``awaiting_budget``), ``"go"`` (the budget now allows the call)
        or ``"stop"`` (spending was stopped).
    """
    with catalog.session() as s:
        shot = s.get(Shot, shot_key)
        if shot is None:
            raise NotFound("shot", shot_key)
        lock_batch(s, shot.batch_id)  # the lock a render's budget check takes
        batch = s.get(Batch, shot.batch_id)
        assert batch is not None
        if batch.spending_stopped:
            return "stop"
        if not over_budget(committed_spend(s, shot.batch_id), price, batch.budget_usd):
            return "go"
        shot.stage, shot.updated_at = ShotStage.AWAITING_BUDGET, utcnow()
        s.add(shot)
        return "wait"
