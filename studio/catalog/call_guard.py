"""Whether a provider call may start now: budget, calls in flight, circuit breaker.

The rules are plain functions over catalog rows. :func:`check_call` runs them inside the same
transaction that writes the call's row (see :func:`studio.catalog.stages.begin_render`), after taking
a lock, so two workers cannot both take the last dollar of a budget or the last free slot of
a provider: the catalog is the one thing every worker process shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, text
from sqlmodel import Session, col

from providers.spec import Node
from studio.catalog.models import ProviderAttempt, utcnow
from studio.states import CallStatus

# Errors that say the provider, not this request, is in trouble: they open the circuit.
PROVIDER_TROUBLE = frozenset({"Unavailable", "RateLimited", "AuthFailed", "BadImage"})
# A call row still "started" after this long belongs to a dead worker: it holds no slot.
STALE_AFTER = timedelta(minutes=15)
BUSY_WAIT = 1.0

# The checks read and lock through either an ORM session or a Core connection (the render
# path uses Core: it runs for every take).
Db = Session | Connection


@dataclass(frozen=True)
class CallPolicy:
    """Limits every worker applies the same way (from settings).

    Attributes:
        prices: Price overrides (see :mod:`studio.spending.prices`).
        max_in_flight: Calls in flight per provider, across all workers and batches.
        circuit_failures: Failures in a row that open a provider's circuit.
        circuit_cooldown: Seconds an open circuit skips a provider.
        breakers: Providers the circuit breaker watches (remote vendors).
        nodes: The render nodes of each self-hosted provider (its pool): each call goes to one
            free, healthy node, counted across workers (see :mod:`studio.catalog.node_pool`).
        node_failures: Failures in a row that set a node aside.
        node_cooldown: Seconds a node set aside waits before one probe call tries it again.
    """

    prices: Mapping[str, float] = field(default_factory=dict)
    max_in_flight: Mapping[str, int] = field(default_factory=dict)
    circuit_failures: int = 5
    circuit_cooldown: float = 120.0
    breakers: frozenset[str] = frozenset()
    nodes: Mapping[str, tuple[Node, ...]] = field(default_factory=dict)
    node_failures: int = 3
    node_cooldown: float = 60.0

    def watches(self, provider: str, price: float) -> bool:
        """Whether a call to ``provider`` costing ``price`` needs any check at all."""
        return price > 0 or provider in self.max_in_flight or provider in self.breakers or provider in self.nodes


@dataclass(frozen=True)
class Blocked:
    """Why a call may not start now.

    Attributes:
        reason: ``over_budget``, ``budget_stopped``, ``busy``, ``circuit_open`` or ``paused``.
        message: One line for the take's error and the logs.
        retry_in: Seconds after which asking again makes sense (busy, or until an open circuit closes).
    """

    reason: str
    message: str
    retry_in: float | None = None


@dataclass(frozen=True)
class RecentCall:
    """A finished call, as the circuit breaker sees it."""

    status: str
    error_class: str | None
    finished_at: datetime


def circuit_until(recent: Sequence[RecentCall], failures: int, cooldown: float) -> datetime | None:
    """When a provider's circuit closes again, or ``None`` when it is closed.

    Args:
        recent: The provider's latest finished calls, newest first.
        failures: How many provider-trouble failures in a row open the circuit.
        cooldown: Seconds the circuit stays open after the last of them.
    """
    streak = recent[:failures]
    if len(streak) < failures:
        return None
    if any(c.status != CallStatus.FAILED or c.error_class not in PROVIDER_TROUBLE for c in streak):
        return None
    return streak[0].finished_at + timedelta(seconds=cooldown)


def over_budget(committed: float, price: float, budget: float | None) -> bool:
    """Whether a call costing ``price`` would take a batch past ``budget``."""
    return budget is not None and price > 0 and committed + price > budget + 1e-9


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they were written as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def recent_calls(session: Db, provider: str, limit: int, stage: str = "render") -> list[RecentCall]:
    """The provider's latest finished ``stage`` calls (any batch), newest first.

    Circuits are per stage: a vendor's image generation can be down while its chat answers.
    """
    rows = session.execute(
        select(col(ProviderAttempt.status), col(ProviderAttempt.error_class), col(ProviderAttempt.finished_at))
        .where(
            col(ProviderAttempt.provider) == provider,
            col(ProviderAttempt.stage) == stage,
            col(ProviderAttempt.finished_at).is_not(None),
        )
        .order_by(col(ProviderAttempt.finished_at).desc())
        .limit(limit)
    ).all()
    # The query keeps finished calls only; the test tells the type checker so.
    return [RecentCall(status, error_class, _aware(at)) for status, error_class, at in rows if at is not None]


def lock_batch(session: Db, batch_id: str) -> None:
    """Hold the batch row (Postgres) or the database's write lock (SQLite) until the transaction ends."""
    session.execute(text("UPDATE batch SET budget_usd = budget_usd WHERE id = :id"), {"id": batch_id})


def committed_spend(session: Db, batch_id: str) -> float:
    """Dollars a batch has spent plus those reserved by its calls in flight."""
    total = session.execute(
        select(func.coalesce(func.sum(ProviderAttempt.cost_usd), 0.0)).where(
            col(ProviderAttempt.batch_id) == batch_id,
            col(ProviderAttempt.status).in_((CallStatus.STARTED, CallStatus.SUCCEEDED)),
        )
    ).scalar_one()
    return float(total)


def lock_for_call(session: Db, batch_id: str, provider: str) -> None:
    """Serialize the checks below between workers, until the transaction ends.

    A no-op update of the batch row takes SQLite's write lock (the whole database) or
    Postgres's row lock (this batch's budget); Postgres also takes an advisory lock per provider,
    since calls in flight are counted across batches.
    """
    lock_batch(session, batch_id)
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    if dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"studio-call:{provider}"})


def check_call(
    session: Db,
    *,
    batch_id: str,
    budget: float | None,
    provider: str,
    price: float,
    policy: CallPolicy,
    stopped: bool = False,
) -> Blocked | None:
    """Whether a call to ``provider`` for ``batch_id`` may start; ``None`` when it may.

    Call :func:`lock_for_call` first in the same transaction.

    Args:
        stopped: Someone stopped the batch's spending at its budget gate.
    """
    now = utcnow()
    if stopped and price > 0:
        return Blocked("budget_stopped", "spending was stopped at this batch's budget")
    if budget is not None and price > 0:
        committed = committed_spend(session, batch_id)
        if over_budget(committed, price, budget):
            return Blocked(
                "over_budget",
                f"budget ${budget:.2f} reached (${committed:.2f} spent or committed; this call costs ${price:.3f})",
            )
    if provider in policy.breakers:
        blocked = _circuit_check(session, provider, policy, now)
        if blocked is not None:
            return blocked
    return _in_flight_check(session, provider, policy, now)


def _circuit_check(session: Db, provider: str, policy: CallPolicy, now: datetime) -> Blocked | None:
    """Open circuit: no call until the cooldown ends; half open: one probe call at a time."""
    recent = recent_calls(session, provider, policy.circuit_failures)
    until = circuit_until(recent, policy.circuit_failures, policy.circuit_cooldown)
    if until is not None:
        if now < until:
            return Blocked(
                "circuit_open",
                f"{provider} skipped: circuit open until "
                f"{until:%H:%M:%S} UTC after {policy.circuit_failures} failures in a row",
                retry_in=(until - now).total_seconds(),
            )
        # Half open: one probe call at a time until one succeeds.
        probing = session.execute(
            select(func.count())
            .select_from(ProviderAttempt)
            .where(
                col(ProviderAttempt.provider) == provider,
                col(ProviderAttempt.stage) == "render",
                col(ProviderAttempt.status) == CallStatus.STARTED,
                col(ProviderAttempt.started_at) >= until,
            )
        ).scalar_one()
        if probing:
            return Blocked("circuit_open", f"{provider} skipped: circuit half open, a probe call is under way")
    return None


def _in_flight_check(session: Db, provider: str, policy: CallPolicy, now: datetime) -> Blocked | None:
    """The provider's limit of calls in flight at once, counting only calls that are not stale."""
    limit = policy.max_in_flight.get(provider)
    if limit is not None:
        since = now - STALE_AFTER
        in_flight = session.execute(
            select(func.count())
            .select_from(ProviderAttempt)
            .where(
                col(ProviderAttempt.provider) == provider,
                col(ProviderAttempt.status) == CallStatus.STARTED,
                col(ProviderAttempt.started_at) >= since,
            )
        ).scalar_one()
        if in_flight >= limit:
            return Blocked("busy", f"{provider}: {in_flight} calls in flight (limit {limit})", retry_in=BUSY_WAIT)
    return None
