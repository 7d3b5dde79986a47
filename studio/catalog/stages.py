"""The catalog side of each pipeline stage, one transaction per step.

A shot used to cost ~20 small transactions; the worker spent more CPU in them than in anything
else. Each function here does one step's reads and writes together, with Core statements, and
stays idempotent. What they return are read-only snapshots, attached to no session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from studio.catalog.call_guard import Blocked, CallPolicy, check_call, lock_for_call
from studio.catalog.models import Batch, Shot, Take, utcnow
from studio.catalog.node_pool import choose_node
from studio.catalog.render_cache import batch_uses_cache, find_cached, reuse_render
from studio.catalog.store import Catalog
from studio.catalog.tables import ATTEMPT, BATCH, PUBLICATION, SHOT, TAKE, snapshot
from studio.errors import NotFound
from studio.states import CallStatus, ShotStage, TakeStatus

DONE_RENDERING = frozenset(
    {TakeStatus.RENDERED, TakeStatus.UPSCALED, TakeStatus.REVIEWED, TakeStatus.APPROVED, TakeStatus.REJECTED}
)
# Stages a shot moves through on its own; a stage outside these (a gate) is left to whoever set it.
WORKING_STAGES = (ShotStage.PENDING, ShotStage.RENDERING, ShotStage.UPSCALING, ShotStage.REVIEWING)


@dataclass(frozen=True)
class RenderStart:
    """What a render attempt needs to know before it calls a provider.

    Attributes:
        take: The take (a detached snapshot).
        done: An earlier run already rendered it: do not call the provider.
        attempt_id: The call row written for this attempt (``None`` when ``done``).
        job_id: A vendor job an interrupted earlier call left running: resume it.
        blocked: Why the call may not start now (budget, busy, circuit open, batch paused); nothing
            was written.
        node: The render node (URL) of a self-hosted pool this call goes to: the node of the
            job it resumes, else a free, healthy one (``None`` for providers without nodes).
        recipe_hash: The render cache's key of this call (``None``: not cacheable); the
            activity stores it with the render so later takes find it.
        cached_from: The earlier take whose render this take reused just now (``done`` is
            then set and no call was written).
    """

    take: Take
    done: bool
    attempt_id: int | None = None
    job_id: str | None = None
    blocked: Blocked | None = None
    node: str | None = None
    recipe_hash: str | None = None
    cached_from: str | None = None


RecipeOf = Callable[[Take], str | None]
"""The render cache's key of a take about to render (``None`` when it may not be cached)."""


def begin_render(
    catalog: Catalog,
    take_id: str,
    *,
    provider: str,
    attempt: int,
    price: float = 0.0,
    policy: CallPolicy | None = None,
    recipe: RecipeOf | None = None,
) -> RenderStart:
    """Look for an earlier result; if none, check the limits and write the call down before it is made.

    An earlier result is the take's own (a retried attempt) or, when the batch uses the render
    cache, an earlier take's with the same recipe, reused at no cost (no call is written).

    Args:
        price: What the call will cost; reserved against the batch's budget until it ends.
        policy: Budget, in-flight and circuit-breaker rules; ``None`` checks nothing.
        recipe: Computes the take's recipe hash; ``None`` (or a ``None`` hash) skips the cache.
    """
    with catalog.engine.connect() as conn:
        start = _begin_render(
            conn, take_id, provider=provider, attempt=attempt, price=price, policy=policy, recipe=recipe
        )
        if start.blocked is None:
            conn.commit()
        else:
            conn.rollback()  # the lost calls stay "started", so their vendor job is still resumed later
        return start


def _begin_render(
    conn: Connection,
    take_id: str,
    *,
    provider: str,
    attempt: int,
    price: float,
    policy: CallPolicy | None,
    recipe: RecipeOf | None,
) -> RenderStart:
    """Start a render call in one transaction; see begin_render.

    Long because the steps (reuse an identical render, reuse a lost call's job, hold for a pause,
    check the guard, choose the node, mark the take rendering, write the call) must run in this
    order in one transaction, and read best in that order.
    """
    row = conn.execute(select(TAKE).where(TAKE.c.id == take_id)).first()
    if row is None:
        raise NotFound("take", take_id)
    now = utcnow()
    if (earlier := _earlier_render(conn, snapshot(Take, row), recipe, now)).done:
        return earlier
    take = earlier.take
    guarded = policy if policy is not None and policy.watches(provider, price) else None
    if guarded is not None:
        lock_for_call(conn, take.batch_id, provider)
    job_id, job_node = _close_lost_calls(conn, take_id, provider, now)
    if job_id is None and _paused(conn, take.batch_id):
        # After an earlier result (reusing a render is no call) and a lost call's vendor job (paid
        # for, and in flight: it may finish). The shot waits for `studio resume` and asks again.
        return RenderStart(take, done=False, blocked=Blocked("paused", f"batch {take.batch_id} is paused"))
    node: str | None = None
    if guarded is not None:
        checked = _checks(conn, take.batch_id, provider, price, guarded, job_node if job_id else None)
        if isinstance(checked, Blocked):
            return RenderStart(take, done=False, blocked=checked)
        node = checked
    if take.status == TakeStatus.PLANNED:
        take = snapshot(Take, row, status=TakeStatus.RENDERING)
        conn.execute(update(TAKE).where(TAKE.c.id == take_id).values(status=TakeStatus.RENDERING))
        conn.execute(
            update(SHOT)
            .where(SHOT.c.key == take.shot_key, SHOT.c.stage == ShotStage.PENDING)
            .values(stage=ShotStage.RENDERING, updated_at=now)
        )
    attempt_id = conn.execute(
        insert(ATTEMPT)
        .values(
            take_id=take_id,
            batch_id=take.batch_id,
            stage="render",
            provider=provider,
            attempt=attempt,
            status=CallStatus.STARTED,
            job_id=job_id,
            cost_usd=price,
            node=node,
            # After the checks: a half-open circuit (or node) counts probes started since it half-opened.
            started_at=utcnow(),
        )
        .returning(ATTEMPT.c.id)
    ).scalar_one()
    return replace(earlier, take=take, attempt_id=attempt_id, job_id=job_id, node=node)


def _paused(conn: Connection, batch_id: str) -> bool:
    """Whether `studio pause` holds the batch's renders."""
    return conn.execute(select(BATCH.c.paused_at).where(BATCH.c.id == batch_id)).scalar() is not None


def _earlier_render(conn: Connection, take: Take, recipe: RecipeOf | None, now: datetime) -> RenderStart:
    """The take's own earlier render, else (batches using the cache) an identical earlier take's, reused now.

    Before the guard: neither needs budget, an in-flight slot or a node. Either way, calls a dead
    worker left open are closed, so they hold no budget reservation or in-flight slot.

    Returns:
        A ``done`` start when there is one; else a start that is not done, carrying the take's
        recipe hash (``None`` when it may not be cached) for the render to store.
    """
    if take.status in DONE_RENDERING and take.asset_key:  # rendered by an attempt whose reply was lost
        _close_lost_calls(conn, take.id, None, now)
        return RenderStart(take, done=True)
    recipe_hash = recipe(take) if recipe is not None else None
    if recipe_hash is not None and batch_uses_cache(conn, take.batch_id):
        source = find_cached(conn, recipe_hash, besides=take.id)
        if source is not None:
            _close_lost_calls(conn, take.id, None, now)
            reused = reuse_render(conn, take, source, recipe_hash)
            return RenderStart(reused, done=True, recipe_hash=recipe_hash, cached_from=source.id)
    return RenderStart(take, done=False, recipe_hash=recipe_hash)


def _close_lost_calls(
    conn: Connection, take_id: str, provider: str | None, now: datetime
) -> tuple[str | None, str | None]:
    """Mark the take's render calls a dead worker left open (to ``provider``, or any) as lost.

    A call begun and never finished: its worker died. It holds no budget reservation, in-flight
    slot or node slot any more, but its vendor job may still finish.

    Returns:
        The vendor job of the latest of them, if any (this attempt polls that job instead of
        paying for a new one), and the render node that job runs on (self-hosted providers).
    """
    started = (ATTEMPT.c.take_id == take_id, ATTEMPT.c.stage == "render", ATTEMPT.c.status == CallStatus.STARTED)
    to_provider = () if provider is None else (ATTEMPT.c.provider == provider,)
    lost = conn.execute(
        update(ATTEMPT)
        .where(*started, *to_provider)
        .values(status=CallStatus.LOST, finished_at=now, cost_usd=0.0)
        .returning(ATTEMPT.c.id, ATTEMPT.c.job_id, ATTEMPT.c.node)
    ).all()
    return next(((job, node) for _, job, node in sorted(lost, reverse=True) if job), (None, None))


def _checks(
    conn: Connection, batch_id: str, provider: str, price: float, policy: CallPolicy, resumed_node: str | None
) -> Blocked | str | None:
    """The guard, then (self-hosted providers) the node, read in the call's transaction.

    Args:
        resumed_node: The node of the vendor job this call resumes: it stays there, whatever
            that node's load, since it is the same job.

    Returns:
        Why the call may not start; else the node it goes to (``None`` for providers without nodes).
    """
    blocked = _guard(conn, batch_id, provider, price, policy)
    if blocked is not None or provider not in policy.nodes:
        return blocked
    return resumed_node or choose_node(conn, provider, policy.nodes[provider], policy, utcnow())


def _guard(conn: Connection, batch_id: str, provider: str, price: float, policy: CallPolicy) -> Blocked | None:
    """The batch's budget and the provider's circuit and in-flight limit, read in the call's transaction."""
    budget, stopped = conn.execute(
        select(BATCH.c.budget_usd, BATCH.c.spending_stopped).where(BATCH.c.id == batch_id)
    ).first() or (None, False)
    return check_call(
        conn, batch_id=batch_id, budget=budget, provider=provider, price=price, policy=policy, stopped=bool(stopped)
    )


def begin_stage(catalog: Catalog, take_id: str, stage: ShotStage) -> tuple[Take, Shot]:
    """Read a take and its shot for a stage, and show the shot in that stage."""
    with catalog.engine.begin() as conn:
        take_row = conn.execute(select(TAKE).where(TAKE.c.id == take_id)).first()
        shot_row = conn.execute(select(SHOT).where(SHOT.c.key == take_row.shot_key)).first() if take_row else None
        if take_row is None or shot_row is None:
            raise NotFound("take", take_id)
        take, shot = snapshot(Take, take_row), snapshot(Shot, shot_row)
        if shot.stage in WORKING_STAGES and shot.stage != stage:
            # A conditional update, not read-modify-write: a sibling take may park the shot at a
            # gate between our read and our write, and that stage must not be overwritten.
            conn.execute(
                update(SHOT)
                .where(SHOT.c.key == shot.key, SHOT.c.stage.in_(WORKING_STAGES))
                .values(stage=stage, updated_at=utcnow())
            )
        return take, shot


def publish_rows(catalog: Catalog, shot_key: str, take_id: str) -> tuple[Take, Shot, Batch]:
    """The take, shot and batch a publication needs, in one read.

    Raises:
        NotFound: No such take, shot or batch.
    """
    with catalog.engine.connect() as conn:
        take_row = conn.execute(select(TAKE).where(TAKE.c.id == take_id)).first()
        shot_row = conn.execute(select(SHOT).where(SHOT.c.key == shot_key)).first()
        batch_row = conn.execute(select(BATCH).where(BATCH.c.id == shot_row.batch_id)).first() if shot_row else None
    if take_row is None or shot_row is None or batch_row is None:
        raise NotFound("take", take_id)
    return snapshot(Take, take_row), snapshot(Shot, shot_row), snapshot(Batch, batch_row)


def record_publication(catalog: Catalog, shot_key: str, take_id: str, path: str) -> None:
    """Record a published file (once), mark the take approved and the shot published.

    Plain UPDATE statements rather than loading both rows: this runs once per shot, and the
    ORM's load-modify-flush cost more than the rest of publishing together.
    """
    with catalog.engine.begin() as conn:
        batch_id = conn.execute(select(SHOT.c.batch_id).where(SHOT.c.key == shot_key)).scalar()
        approved = conn.execute(update(TAKE).where(TAKE.c.id == take_id).values(status=TakeStatus.APPROVED))
        if batch_id is None or approved.rowcount == 0:
            raise NotFound("take", take_id)
        existing = conn.execute(
            select(PUBLICATION.c.id).where(
                PUBLICATION.c.shot_key == shot_key, PUBLICATION.c.path == path, PUBLICATION.c.removed_at.is_(None)
            )
        ).first()
        now = utcnow()
        if existing is None:
            conn.execute(
                insert(PUBLICATION).values(
                    batch_id=batch_id, shot_key=shot_key, take_id=take_id, path=path, published_at=now
                )
            )
        conn.execute(
            update(SHOT)
            .where(SHOT.c.key == shot_key)
            .values(stage=ShotStage.PUBLISHED, final_take_id=take_id, updated_at=now)
        )


def begin_call(
    catalog: Catalog, take_id: str, *, stage: str, provider: str, attempt: int, price: float
) -> tuple[int, str | None]:
    """Write down an upscale or review call to a paid provider before it is made.

    Returns:
        The call's row id, and the vendor job a dead worker's call left running (to resume
        instead of paying for a new one), if any.
    """
    with catalog.engine.begin() as conn:
        batch_id = conn.execute(select(TAKE.c.batch_id).where(TAKE.c.id == take_id)).scalar()
        if batch_id is None:
            raise NotFound("take", take_id)
        now = utcnow()
        # A dead worker's call: it holds no reservation any more, but its job may still finish.
        lost = conn.execute(
            update(ATTEMPT)
            .where(
                ATTEMPT.c.take_id == take_id,
                ATTEMPT.c.stage == stage,
                ATTEMPT.c.provider == provider,
                ATTEMPT.c.status == CallStatus.STARTED,
            )
            .values(status=CallStatus.LOST, finished_at=now, cost_usd=0.0)
            .returning(ATTEMPT.c.id, ATTEMPT.c.job_id)
        ).all()
        job_id = next((job for _, job in sorted(lost, reverse=True) if job), None)
        call_id = conn.execute(
            insert(ATTEMPT)
            .values(
                take_id=take_id,
                batch_id=batch_id,
                stage=stage,
                provider=provider,
                attempt=attempt,
                status=CallStatus.STARTED,
                cost_usd=price,
                job_id=job_id,
                started_at=now,
            )
            .returning(ATTEMPT.c.id)
        ).scalar_one()
        return call_id, job_id
