"""The catalog's reads of one batch for `studio status BATCH`, the Batch page's headline and its ETA.

Loading every shot, take and call of a 10,000-shot batch as ORM rows and counting them in Python
took 2.5 s for the summary and 1.9 s for the ETA; these read counts (GROUP BY), the few calls
running now, and the takes' columns the summary prints as plain tuples.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from studio.catalog.models import ProviderAttempt, Shot, Take
from studio.catalog.sessions import CatalogSessions
from studio.states import ENDED_SHOT_STAGES, CallStatus, TakeStatus

# Takes that will never have an image, upscale or review (work_left skips them).
NOT_COMING = (TakeStatus.FAILED, TakeStatus.CANCELLED, TakeStatus.REJECTED)


class TakeLine(NamedTuple):
    """The columns of a take `studio status BATCH` prints, and the render cache's (no ORM object)."""

    id: str
    round: int
    status: str
    provider: str | None
    model: str | None
    seed: int | None
    seed_used: int | None
    review_score: float | None
    review_passed: bool | None
    review_notes: str | None
    cost_usd: float
    error: str | None
    cached_from: str | None


class CallCount(NamedTuple):
    """A batch's calls of one provider that ended one way: how many, and what they cost."""

    provider: str
    status: str
    calls: int
    cost_usd: float


class FreshCalls(NamedTuple):
    """A batch's calls of one provider at one stage that are not stale "started" rows.

    ``first_id`` is the oldest one's id: ties between providers are broken by which came first,
    as counting the rows in id order did.
    """

    provider: str
    stage: str
    calls: int
    first_id: int


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _missing(column: str | None) -> ColumnElement[bool]:
    # What Python's falsiness of the value says: NULL or empty.
    return or_(col(column).is_(None), col(column) == "")


def take_lines(sessions: CatalogSessions, batch_id: str, *, cached_only: bool = False) -> list[TakeLine]:
    """Every take of a batch (or only those that reused a render), in the order
    :meth:`~studio.catalog.store.Catalog.batch_takes` gives them.

    The same statement shape (no ORDER BY) on purpose: the `--json` output lists takes in that
    order and has always done so.
    """
    t = Take
    columns = (t.id, t.round, t.status, t.provider, t.model, t.seed, t.seed_used, t.review_score)
    more = (t.review_passed, t.review_notes, t.cost_usd, t.error, t.cached_from)
    query = sa_select(*(col(c) for c in (*columns, *more))).where(col(t.batch_id) == batch_id)
    if cached_only:
        query = query.where(col(t.cached_from).is_not(None))
    with sessions.engine.connect() as conn:
        return [TakeLine._make(row) for row in conn.execute(query).all()]


def take_status_counts(sessions: CatalogSessions, batch_id: str) -> dict[str, int]:
    """A batch's takes counted by status, statuses in alphabetical order."""
    query = (
        sa_select(col(Take.status), func.count())
        .where(col(Take.batch_id) == batch_id)
        .group_by(col(Take.status))
        .order_by(col(Take.status))
    )
    with sessions.engine.connect() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


def call_counts(sessions: CatalogSessions, batch_id: str) -> list[CallCount]:
    """A batch's calls counted (and their cost summed) per provider and status, by provider."""
    a = ProviderAttempt
    query = (
        sa_select(col(a.provider), col(a.status), func.count(), func.coalesce(func.sum(col(a.cost_usd)), 0.0))
        .where(col(a.batch_id) == batch_id)
        .group_by(col(a.provider), col(a.status))
        .order_by(col(a.provider), func.min(col(a.id)))
    )
    with sessions.engine.connect() as conn:
        return [CallCount(p, s, int(n), float(usd)) for p, s, n, usd in conn.execute(query)]


def failures_of(
    sessions: CatalogSessions, batch_id: str, classes: Collection[str]
) -> list[tuple[str, str, str | None]]:
    """``(provider, error class, error)`` of a batch's calls that failed with one of ``classes``, oldest first."""
    a = ProviderAttempt
    query = (
        sa_select(col(a.provider), col(a.error_class), col(a.error))
        .where(col(a.batch_id) == batch_id, col(a.error_class).in_(list(classes)))
        .order_by(col(a.id))
    )
    with sessions.engine.connect() as conn:
        # error_class IS in classes, so never NULL here.
        return [(provider, error_class or "", error) for provider, error_class, error in conn.execute(query)]


def running_calls(sessions: CatalogSessions, batch_id: str, *, since: datetime | None = None) -> list[ProviderAttempt]:
    """A batch's calls still marked started (begun at ``since`` or later, when given), oldest first."""
    a = ProviderAttempt
    query = select(a).where(col(a.batch_id) == batch_id, col(a.status) == CallStatus.STARTED)
    if since is not None:
        query = query.where(col(a.started_at) >= since)
    with sessions.session() as s:
        return list(s.exec(query.order_by(col(a.id))))


def fresh_calls(sessions: CatalogSessions, batch_id: str, stale: datetime) -> list[FreshCalls]:
    """A batch's calls per provider and stage, leaving out "started" rows begun before ``stale``
    (a dead worker's call, never finished)."""
    a = ProviderAttempt
    fresh = or_(col(a.status) != CallStatus.STARTED, col(a.started_at) >= stale)
    query = (
        sa_select(col(a.provider), col(a.stage), func.count(), func.min(col(a.id)))
        .where(col(a.batch_id) == batch_id, fresh)
        .group_by(col(a.provider), col(a.stage))
    )
    with sessions.engine.connect() as conn:
        return [FreshCalls(p, stage, int(n), int(first or 0)) for p, stage, n, first in conn.execute(query)]


def work_left(sessions: CatalogSessions, batch_id: str) -> dict[str, int]:
    """Takes of a batch still to render, upscale and review (what a batch's ETA is the time of).

    Takes of ended shots (published, rejected, failed, cancelled) and takes that will never come
    have nothing left; only takes of shots with ``upscale`` > 1 upscale.
    """
    ended = sa_select(col(Shot.key)).where(
        col(Shot.batch_id) == batch_id, col(Shot.stage).in_([str(s) for s in ENDED_SHOT_STAGES])
    )
    upscaling = sa_select(col(Shot.key)).where(col(Shot.batch_id) == batch_id, col(Shot.upscale) > 1)
    t = Take
    query = sa_select(
        _count(_missing(t.asset_key)),
        _count(and_(col(t.shot_key).in_(upscaling), _missing(t.final_key))),
        _count(col(t.review_score).is_(None)),
    ).where(
        col(t.batch_id) == batch_id,
        col(t.status).not_in([str(s) for s in NOT_COMING]),
        col(t.shot_key).not_in(ended),
    )
    with sessions.engine.connect() as conn:
        render, upscale, review = conn.execute(query).one()
    return {"render": int(render), "upscale": int(upscale), "review": int(review)}


def live_chains(sessions: CatalogSessions, batch_id: str) -> tuple[int, Counter[str]]:
    """How many shots a batch has, and the first provider of each not-ended shot's chain, counted
    in storyboard order (ties go to the provider met first)."""
    ended = [str(s) for s in ENDED_SHOT_STAGES]
    shots = sa_select(func.count()).where(col(Shot.batch_id) == batch_id)
    live = (
        sa_select(col(Shot.chain))
        .where(col(Shot.batch_id) == batch_id, col(Shot.stage).not_in(ended))
        .order_by(col(Shot.position))
    )
    with sessions.engine.connect() as conn:
        total = int(conn.execute(shots).scalar_one())
        chains = Counter(chain[0] for (chain,) in conn.execute(live) if chain)
    return total, chains
