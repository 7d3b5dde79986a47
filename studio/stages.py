"""The catalog side of each pipeline stage, one transaction per step.

A shot used to cost ~20 small transactions; the worker spent more CPU in them than in anything
else. Each function here does one step's reads and writes together, and stays idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import select

from studio.call_guard import Blocked, CallPolicy, check_call, lock_for_call
from studio.catalog import Catalog
from studio.errors import NotFound
from studio.models import Batch, ProviderAttempt, Publication, Shot, Take, utcnow

DONE_RENDERING = frozenset({"rendered", "upscaled", "reviewed", "approved", "rejected"})
# Stages a shot moves through on its own; a stage outside these (a gate) is left to whoever set it.
WORKING_STAGES = ("pending", "rendering", "upscaling", "reviewing")


@dataclass(frozen=True)
class RenderStart:
    """What a render attempt needs to know before it calls a provider.

    Attributes:
        take: The take (a detached snapshot).
        done: An earlier run already rendered it: do not call the provider.
        attempt_id: The call row written for this attempt (``None`` when ``done``).
        job_id: A vendor job an interrupted earlier call left running: resume it.
        blocked: Why the call may not start now (budget, busy, circuit open); nothing was written.
    """

    take: Take
    done: bool
    attempt_id: int | None = None
    job_id: str | None = None
    blocked: Blocked | None = None


def begin_render(catalog: Catalog, take_id: str, *, provider: str, attempt: int, price: float = 0.0,
                 policy: CallPolicy | None = None) -> RenderStart:
    """Look for an earlier result; if none, check the limits and write the call down before it is made.

    Args:
        price: What the call will cost; reserved against the batch's budget until it ends.
        policy: Budget, in-flight and circuit-breaker rules; ``None`` checks nothing.
    """
    with catalog.session() as s:
        take = s.get(Take, take_id)
        if take is None:
            raise NotFound("take", take_id)
        if take.status in DONE_RENDERING and take.asset_key:
            # Rendered by an attempt whose reply was lost: close calls a dead worker left open,
            # so they hold no budget reservation or in-flight slot.
            s.execute(
                update(ProviderAttempt)
                .where(ProviderAttempt.take_id == take_id, ProviderAttempt.stage == "render",
                       ProviderAttempt.status == "started")
                .values(status="lost", finished_at=utcnow(), cost_usd=0.0)
            )
            return RenderStart(take, done=True)
        guarded = policy is not None and policy.watches(provider, price)
        if guarded:
            lock_for_call(s, take.batch_id, provider)
        job_id = None
        unfinished = s.exec(
            select(ProviderAttempt).where(
                ProviderAttempt.take_id == take_id,
                ProviderAttempt.stage == "render",
                ProviderAttempt.provider == provider,
                ProviderAttempt.status == "started",
            )
        )
        for row in unfinished:
            # A call begun and never finished: its worker died. Count it as lost, but keep its
            # vendor job so this attempt polls that job instead of paying for a new one.
            row.status, row.finished_at, row.cost_usd = "lost", utcnow(), 0.0
            job_id = row.job_id or job_id
            s.add(row)
        if guarded:
            assert policy is not None
            s.flush()
            batch = s.get(Batch, take.batch_id)
            blocked = check_call(s, batch_id=take.batch_id, budget=batch.budget_usd if batch else None,
                                 provider=provider, price=price, policy=policy,
                                 stopped=bool(batch and batch.spending_stopped))
            if blocked is not None:
                s.expunge(take)  # keep the snapshot the caller reads; rollback would expire it
                s.rollback()  # the lost calls stay "started", so their vendor job is still resumed later
                return RenderStart(take, done=False, blocked=blocked)
        if take.status == "planned":
            take.status = "rendering"
            s.add(take)
            s.execute(
                update(Shot).where(Shot.key == take.shot_key, Shot.stage == "pending")
                .values(stage="rendering", updated_at=utcnow())
            )
        call = ProviderAttempt(take_id=take_id, batch_id=take.batch_id, stage="render", provider=provider,
                               attempt=attempt, job_id=job_id, cost_usd=price)
        s.add(call)
        s.flush()
        return RenderStart(take, done=False, attempt_id=call.id, job_id=job_id)


def begin_stage(catalog: Catalog, take_id: str, stage: str) -> tuple[Take, Shot]:
    """Read a take and its shot for a stage, and show the shot in that stage."""
    with catalog.session() as s:
        take = s.get(Take, take_id)
        shot = s.get(Shot, take.shot_key) if take is not None else None
        if take is None or shot is None:
            raise NotFound("take", take_id)
        if shot.stage in WORKING_STAGES and shot.stage != stage:
            # A conditional update, not read-modify-write: a sibling take may park the shot at a
            # gate between our read and our write, and that stage must not be overwritten.
            s.execute(
                update(Shot)
                .where(Shot.key == shot.key, Shot.stage.in_(WORKING_STAGES))  # type: ignore[attr-defined]
                .values(stage=stage, updated_at=utcnow())
            )
        return take, shot


def record_publication(catalog: Catalog, shot_key: str, take_id: str, path: str) -> None:
    """Record a published file (once), mark the take approved and the shot published.

    Plain UPDATE statements rather than loading both rows: this runs once per shot, and the
    ORM's load-modify-flush cost more than the rest of publishing together.
    """
    with catalog.session() as s:
        batch_id = s.exec(select(Shot.batch_id).where(Shot.key == shot_key)).first()
        approved = s.execute(update(Take).where(Take.id == take_id).values(status="approved"))
        if batch_id is None or approved.rowcount == 0:
            raise NotFound("take", take_id)
        existing = s.exec(
            select(Publication.id).where(
                Publication.shot_key == shot_key, Publication.path == path, Publication.removed_at == None  # noqa: E711
            )
        ).first()
        if existing is None:
            s.add(Publication(batch_id=batch_id, shot_key=shot_key, take_id=take_id, path=path))
        s.execute(
            update(Shot).where(Shot.key == shot_key)
            .values(stage="published", final_take_id=take_id, updated_at=utcnow())
        )


def begin_call(catalog: Catalog, take_id: str, *, stage: str, provider: str, attempt: int,
               price: float) -> tuple[int, str | None]:
    """Write down an upscale or review call to a paid provider before it is made.

    Returns:
        The call's row id, and the vendor job a dead worker's call left running (to resume
        instead of paying for a new one), if any.
    """
    with catalog.session() as s:
        take = s.get(Take, take_id)
        if take is None:
            raise NotFound("take", take_id)
        unfinished = s.exec(
            select(ProviderAttempt).where(
                ProviderAttempt.take_id == take_id, ProviderAttempt.stage == stage,
                ProviderAttempt.provider == provider, ProviderAttempt.status == "started",
            )
        )
        job_id = None
        for row in unfinished:
            # A dead worker's call: it holds no reservation any more, but its job may still finish.
            row.status, row.finished_at, row.cost_usd = "lost", utcnow(), 0.0
            job_id = row.job_id or job_id
            s.add(row)
        call = ProviderAttempt(take_id=take_id, batch_id=take.batch_id, stage=stage, provider=provider,
                               attempt=attempt, cost_usd=price, job_id=job_id)
        s.add(call)
        s.flush()
        assert call.id is not None
        return call.id, job_id
