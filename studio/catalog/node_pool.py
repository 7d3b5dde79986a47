"""Which render node of a self-hosted pool a call goes to: a free, healthy one.

A self-hosted provider (ComfyUI, AUTOMATIC1111) is a pool of the creator's own machines, each
running a few jobs at once at most. The pool is counted in the catalog, like the in-flight cap of
:mod:`studio.catalog.call_guard`: :func:`choose_node` runs inside the transaction that writes the
call down, after :func:`studio.catalog.call_guard.lock_for_call`, so two worker processes never
take the same last slot of a node.

A node whose last few calls all failed with provider trouble (down, timing out, refusing the
credential) is set aside for a cooldown, then half open: one probe call at a time goes to it, and
a success brings it back. The rules are plain functions (:func:`node_state`, :func:`pick_node`);
:func:`choose_node` reads the rows they need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from providers.base import error_kind
from providers.spec import Node
from studio.catalog.call_guard import BUSY_WAIT, PROVIDER_TROUBLE, STALE_AFTER, Blocked, CallPolicy, Db, RecentCall
from studio.catalog.models import ProviderAttempt
from studio.states import CallStatus

# The kinds of failure that say the node, not the request, is in trouble. Read through
# error_kind, so the class names older rows carry ("Unavailable") count as the kinds do
# ("unavailable"); an invalid or rejected request is the request's fault and never counts.
NODE_TROUBLE = frozenset(kind for kind in map(error_kind, PROVIDER_TROUBLE) if kind is not None)
# The outcomes a node answered with. A lost call (its worker died) says nothing of the node.
ANSWERED = (CallStatus.SUCCEEDED, CallStatus.FAILED)


@dataclass(frozen=True)
class NodeState:
    """One node as the pool sees it at one moment.

    Attributes:
        node: The node (URL and slots).
        in_use: Its calls in flight (started, not stale).
        aside_until: When its cooldown ends, if its last calls all failed with node trouble
            (``None`` when healthy). Past that moment the node is half open.
        probing: Half open and a probe call (begun after the cooldown ended) is still under way.
    """

    node: Node
    in_use: int
    aside_until: datetime | None = None
    probing: bool = False

    def set_aside(self, now: datetime) -> bool:
        """Whether no new call may go to this node now (cooling down, or being probed)."""
        return self.aside_until is not None and (now < self.aside_until or self.probing)

    def free(self, now: datetime) -> bool:
        """Whether a new call may go to this node now."""
        return not self.set_aside(now) and self.in_use < self.node.slots


def aside_until(recent: Sequence[RecentCall], failures: int, cooldown: float) -> datetime | None:
    """When a node set aside may be probed again, or ``None`` when it is not set aside.

    Args:
        recent: The node's latest answered calls, newest first.
        failures: How many node-trouble failures in a row set a node aside.
        cooldown: Seconds it stays aside after the last of them.
    """
    streak = recent[:failures]
    if len(streak) < failures:
        return None
    if any(c.status != CallStatus.FAILED or error_kind(c.error_class) not in NODE_TROUBLE for c in streak):
        return None
    return streak[0].finished_at + timedelta(seconds=cooldown)


def node_state(node: Node, started: Sequence[datetime], recent: Sequence[RecentCall], policy: CallPolicy) -> NodeState:
    """A node's state from its calls in flight (their start times) and its latest answered calls."""
    until = aside_until(recent, policy.node_failures, policy.node_cooldown)
    probing = until is not None and any(at >= until for at in started)
    return NodeState(node, in_use=len(started), aside_until=until, probing=probing)


def pick_node(provider: str, states: Sequence[NodeState], now: datetime) -> str | Blocked:
    """The free node with the most room (lowest share of its slots in use; ties: settings order).

    Returns:
        The node's URL; or ``busy`` when every node not set aside is full (wait: one frees
        soon); or ``circuit_open`` when every node is set aside (fail over to the next provider,
        as for an open circuit), with ``retry_in`` the seconds until the first may be probed.
    """
    free = [s for s in states if s.free(now)]
    if free:
        return min(free, key=lambda s: s.in_use / s.node.slots).node.url  # min keeps the first of ties
    usable = [s for s in states if not s.set_aside(now)]
    aside = len(states) - len(usable)
    if usable:
        which = f"all {len(usable)} nodes" if len(usable) > 1 else "1 node"
        note = f" ({aside} set aside)" if aside else ""
        return Blocked("busy", f"{provider}: {which} busy{note}", retry_in=BUSY_WAIT)
    parts = [
        f"{s.node.url} probing"
        if s.probing or s.aside_until is None
        else f"{s.node.url} until {s.aside_until:%H:%M:%S} UTC"
        for s in states
    ]
    waits = [(s.aside_until - now).total_seconds() for s in states if s.aside_until is not None and now < s.aside_until]
    # Only probes under way: no moment to name; the workflow's own back-off decides.
    retry_in = min(waits) if waits else None
    return Blocked("circuit_open", f"{provider}: every node set aside ({', '.join(parts)})", retry_in=retry_in)


def choose_node(db: Db, provider: str, nodes: Sequence[Node], policy: CallPolicy, now: datetime) -> str | Blocked:
    """The node a new call to ``provider`` goes to, read in the call's transaction.

    Call :func:`studio.catalog.call_guard.lock_for_call` first in the same transaction, and
    write the call (with its node) before it ends: that is what makes the count hold across
    workers.

    Args:
        db: The call's session or connection.
        nodes: The provider's pool, in settings order.
        now: The current time (UTC).
    """
    urls = [n.url for n in nodes]
    since = now - STALE_AFTER
    started: dict[str, list[datetime]] = {url: [] for url in urls}
    rows = db.execute(
        select(col(ProviderAttempt.node), col(ProviderAttempt.started_at)).where(
            col(ProviderAttempt.provider) == provider,
            col(ProviderAttempt.node).in_(urls),
            col(ProviderAttempt.status) == CallStatus.STARTED,
            col(ProviderAttempt.started_at) >= since,
        )
    ).all()
    for url, at in rows:
        if url is not None:
            started[url].append(_aware(at))
    states = [
        node_state(n, started[n.url], recent_node_calls(db, provider, n.url, policy.node_failures), policy)
        for n in nodes
    ]
    return pick_node(provider, states, now)


def recent_node_calls(db: Db, provider: str, url: str, limit: int) -> list[RecentCall]:
    """The node's latest answered render calls (any batch), newest first."""
    rows = db.execute(
        select(col(ProviderAttempt.status), col(ProviderAttempt.error_class), col(ProviderAttempt.finished_at))
        .where(
            col(ProviderAttempt.provider) == provider,
            col(ProviderAttempt.node) == url,
            col(ProviderAttempt.stage) == "render",
            col(ProviderAttempt.status).in_(ANSWERED),
            col(ProviderAttempt.finished_at).is_not(None),
        )
        .order_by(col(ProviderAttempt.finished_at).desc())
        .limit(limit)
    ).all()
    # The query keeps finished calls only; the test tells the type checker so.
    return [RecentCall(status, error_class, _aware(at)) for status, error_class, at in rows if at is not None]


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they were written as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
