"""When a running batch will finish, from what its calls measured (no Temporal needed).

The estimate is Little's law per lane (a stage on a provider, and on a render node where the call
went to one): a lane gets through ``at_once / seconds_per_call`` items a second, where
``seconds_per_call`` is the median of its last good calls (any batch's: a provider is as fast for
everyone; :mod:`studio.views.lane_speeds`) and ``at_once`` is how many of *this* batch's calls run there right now.
That count is the batch's share of the provider's capacity as it actually is (priorities, fairness
weights, other batches), without modelling the dispatcher. A batch with nothing in flight yet gets
an even share of the provider's configured limit among the batches using it.

Stages overlap (one take reviews while the next renders), so the time left is the slowest stage's
work plus one call of each later stage for the last take through.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlmodel import col, select

from studio.catalog.call_guard import STALE_AFTER
from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.store import Catalog
from studio.catalog.summary_queries import fresh_calls, live_chains, running_calls, work_left
from studio.states import FINISHED_BATCH_STATES, CallStatus
from studio.views.lane_speeds import STAGES, held_seconds, lane_speeds
from studio.views.progress import node_label

NOT_YET = "ETA after the first renders"
"""What to show instead of a time while nothing has been measured."""
PAUSED_TEXT = "Paused: no render starts until it is resumed (calls already running finish)"
"""What to show instead of a time while the batch is paused."""


@dataclass(frozen=True)
class Capacity:
    """How many calls of a provider run at once across the studio, from settings.

    Attributes:
        per_worker: Calls per worker process (``STUDIO_PROVIDER_CONCURRENCY``).
        workers: Worker processes polling (1 unless the caller knows more).
        max_in_flight: A provider's cap across all workers, where one is set.
    """

    per_worker: int = 16
    workers: int = 1
    max_in_flight: Mapping[str, int] = field(default_factory=dict)

    def slots(self, provider: str) -> int:
        """Calls of ``provider`` that may run at once."""
        return self.max_in_flight.get(provider) or self.per_worker * max(self.workers, 1)


@dataclass(frozen=True)
class Lane:
    """One stage on one provider (and node) as the estimate reads it.

    Attributes:
        stage: ``render``, ``upscale`` or ``review``.
        provider: The provider.
        node: The render node (URL) the calls go to, for a self-hosted pool.
        seconds_per_call: Median seconds of its recent good calls.
        at_once: This batch's calls running there at once.
    """

    stage: str
    provider: str
    node: str | None
    seconds_per_call: float
    at_once: int

    def where(self) -> str:
        """``replicate`` or ``comfyui @ gpu-box:8188``."""
        return f"{self.provider} @ {node_label(self.node)}" if self.node else self.provider


@dataclass(frozen=True)
class Eta:
    """When a batch's remaining work should be done.

    Attributes:
        finish_at: The estimated end (aware UTC).
        seconds_left: From the moment it was computed.
        takes_left: Takes still to render.
        basis: How it was worked out, in words
            (``12 takes left at 1.1 s/image on replicate, 4 at a time``).
    """

    finish_at: datetime
    seconds_left: float
    takes_left: int
    basis: str

    def to_json(self) -> dict[str, Any]:
        """``{"finish_at", "seconds_left", "takes_left", "basis"}``."""
        return {
            "finish_at": self.finish_at.isoformat(timespec="seconds"),
            "seconds_left": round(self.seconds_left, 1),
            "takes_left": self.takes_left,
            "basis": self.basis,
        }


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they were written as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def call_seconds(a: ProviderAttempt) -> float | None:
    """How long a finished call held its slot: finished - started, else its latency; None if unknown."""
    return held_seconds(a.started_at, a.finished_at, a.latency_ms)


def finish_in(lanes: Sequence[Lane], busy_for: Sequence[tuple[int, float]], unstarted: int) -> float:
    """Seconds until ``unstarted`` items are done on ``lanes`` whose slots are busy for a while yet.

    Each lane has ``at_once`` slots; ``busy_for`` holds (lane index, seconds its call still needs)
    for the calls running now. Every item goes to the slot that would finish it first. Slots, not
    a fluid rate: the last wave takes a whole call however few items are in it.
    """
    free_at: list[tuple[float, int]] = []
    for i, lane in enumerate(lanes):
        remaining = sorted((seconds for j, seconds in busy_for if j == i), reverse=True)[: lane.at_once]
        free_at += [(seconds, i) for seconds in remaining] + [(0.0, i)] * (lane.at_once - len(remaining))
    end = max((t for t, _ in free_at), default=0.0)
    heap = [(t + lanes[i].seconds_per_call, i) for t, i in free_at]
    heapq.heapify(heap)
    for _ in range(unstarted):
        done, i = heapq.heappop(heap)
        end = max(end, done)
        heapq.heappush(heap, (done + lanes[i].seconds_per_call, i))
    return end


def _stage_seconds(
    stage: str,
    left: int,
    mine: Sequence[ProviderAttempt],
    speeds: Mapping[tuple[str, str, str | None], float],
    now: datetime,
) -> tuple[float, list[Lane], int] | None:
    """Seconds the batch's ``left`` items of ``stage`` take on the lanes its calls run on now.

    The calls running now keep their slots for what their lane's speed says they still need; the
    items not started take the slots as they free up.
    """
    running = [a for a in mine if a.stage == stage and a.status == CallStatus.STARTED]
    at_once = Counter((a.provider, a.node) for a in running)
    lanes = [
        Lane(stage, provider, node, speeds[(stage, provider, node)], n)
        for (provider, node), n in sorted(at_once.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
        if (stage, provider, node) in speeds
    ]
    if not lanes:
        return None
    index = {(lane.provider, lane.node): i for i, lane in enumerate(lanes)}
    busy_for = [
        (
            index[(a.provider, a.node)],
            max(
                0.0, lanes[index[(a.provider, a.node)]].seconds_per_call - (now - _aware(a.started_at)).total_seconds()
            ),
        )
        for a in running
        if (a.provider, a.node) in index
    ]
    return finish_in(lanes, busy_for, max(0, left - len(running))), lanes, left


def _waiting_lane(
    stage: str,
    provider: str,
    speeds: Mapping[tuple[str, str, str | None], float],
    busy_batches: int,
    capacity: Capacity,
) -> Lane | None:
    """A lane for a batch with no call running in ``stage``: an even share of the provider's limit."""
    known = [spc for (s, p, _), spc in speeds.items() if s == stage and p == provider]
    if not known:
        return None
    return Lane(stage, provider, None, median(known), max(1, capacity.slots(provider) // (busy_batches + 1)))


def basis_text(lanes: Sequence[Lane], left: int, stage: str) -> str:
    """``12 takes left at 1.1 s/image on replicate, 4 at a time`` (lanes joined by ``;``)."""
    noun = "takes" if left != 1 else "take"
    what = {"render": "image", "upscale": "upscale", "review": "review"}[stage]
    parts = [f"{lane.seconds_per_call:.1f} s/{what} on {lane.where()}, {lane.at_once} at a time" for lane in lanes]
    verb = {"render": "left", "upscale": "left to upscale", "review": "left to review"}[stage]
    return f"{left} {noun} {verb} at " + "; ".join(parts)


def estimate(
    left: Mapping[str, int],
    mine: Sequence[ProviderAttempt],
    speeds: Mapping[tuple[str, str, str | None], float],
    fallback: Mapping[str, Lane],
    now: datetime,
) -> Eta | None:
    """The ETA from work left per stage, the batch's calls, lane speeds and waiting lanes.

    Args:
        left: Items left per stage (:func:`~studio.catalog.summary_queries.work_left`).
        mine: The batch's calls (its running ones say where its work runs now).
        speeds: Median seconds per call by (stage, provider, node).
        fallback: Per stage, the lane to assume when none of the batch's calls run in it.
        now: The moment of the estimate.

    Returns:
        ``None`` when the renders left cannot be timed yet (nothing measured on their provider).
    """
    stages: list[tuple[str, float, list[Lane], int]] = []
    for stage in STAGES:
        if not left.get(stage):
            continue
        timed = _stage_seconds(stage, left[stage], mine, speeds, now)
        if timed is None and stage in fallback:
            lane = fallback[stage]
            timed = (finish_in([lane], [], left[stage]), [lane], left[stage])
        if timed is None:
            if stage == "render":
                return None  # the work that matters most cannot be timed: no figure beats a wrong one
            continue  # an unmeasured later stage (in-process, quick) is left out
        stages.append((stage, *timed))
    if not stages:
        return Eta(now, 0.0, 0, "nothing left to render")
    slowest = max(stages, key=lambda s: s[1])
    # The last take still goes through each other stage once after the slowest one is done.
    tail = sum(min(lane.seconds_per_call for lane in s[2]) for s in stages if s is not slowest)
    seconds = slowest[1] + tail
    basis = basis_text(slowest[2], slowest[3], slowest[0])
    return Eta(now + timedelta(seconds=seconds), seconds, left.get("render", 0), basis)


def _busy_batches(catalog: Catalog, batch_id: str, now: datetime) -> Counter[str]:
    """Other batches with calls running now, per provider."""
    a = ProviderAttempt
    with catalog.session() as s:
        rows = s.exec(
            select(col(a.provider), col(a.batch_id))
            .where(
                col(a.status) == CallStatus.STARTED,
                col(a.started_at) >= now - STALE_AFTER,
                col(a.started_at) <= now,
                col(a.batch_id) != batch_id,
            )
            .distinct()
        ).all()
    return Counter(provider for provider, _ in rows)


def batch_eta(
    catalog: Catalog, batch_id: str, *, capacity: Capacity | None = None, now: datetime | None = None
) -> Eta | None:
    """The ETA of a batch from the catalog, or ``None`` when it has ended or nothing is measured yet.

    Args:
        capacity: The providers' limits (settings); used for a batch none of whose calls run yet.
        now: The moment to estimate at (default: now). The catalog is read as it is; a test
            passes the time its rows stand at.

    Raises:
        NotFound: No batch ``batch_id``.
    """
    now = _aware(now) if now is not None else utcnow()
    batch = catalog.batch(batch_id)
    if batch.state in FINISHED_BATCH_STATES or batch.paused_at is not None:
        return None  # a paused batch finishes when someone resumes it
    shots, chains = live_chains(catalog, batch_id)
    if not shots:
        return None  # before the storyboard: no take knows its provider yet
    left = work_left(catalog, batch_id)
    stale = now - STALE_AFTER
    calls = fresh_calls(catalog, batch_id, stale)
    # Only the calls running now say where the batch's work runs (estimate reads no other).
    mine = running_calls(catalog, batch_id, since=stale)
    # Where the renders go when none runs: the providers its calls went to, else its shots' chains.
    renders = sorted((c for c in calls if c.stage == "render"), key=lambda c: c.first_id)
    recent = Counter({c.provider: c.calls for c in renders})
    render_on = (recent or chains).most_common(1)
    speeds = lane_speeds(catalog, {c.provider for c in calls} | set(chains), now)
    fallback: dict[str, Lane] = {}
    busy = _busy_batches(catalog, batch_id, now)
    if render_on:
        lane = _waiting_lane("render", render_on[0][0], speeds, busy[render_on[0][0]], capacity or Capacity())
        if lane is not None:
            fallback["render"] = lane
    return estimate(left, mine, speeds, fallback, now)


def eta_text(eta: Eta | None, *, paused: bool = False) -> str:
    """``ETA 17:42 UTC (in 3 min): 12 takes left at …``, :data:`PAUSED_TEXT` or :data:`NOT_YET`."""
    if paused:
        return PAUSED_TEXT
    if eta is None:
        return NOT_YET
    if eta.seconds_left <= 0:
        return f"ETA now: {eta.basis}"
    return f"ETA {eta.finish_at:%H:%M:%S} UTC (in {duration_text(eta.seconds_left)}): {eta.basis}"


def eta_short(eta: Eta | None, *, paused: bool = False) -> str:
    """``ETA 17:42:10 UTC (in 3 min)`` for a progress bar, ``paused``, or :data:`NOT_YET`."""
    if paused:
        return "paused"
    if eta is None:
        return NOT_YET
    return (
        "ETA now"
        if eta.seconds_left <= 0
        else f"ETA {eta.finish_at:%H:%M:%S} UTC (in {duration_text(eta.seconds_left)})"
    )


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min``, ``2 h 05 min``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02} min"


def capacity_of(per_worker: int, max_in_flight: Mapping[str, int], workers: int = 1) -> Capacity:
    """The providers' limits from settings (``provider_concurrency``, ``provider_max_in_flight``)."""
    return Capacity(per_worker=per_worker, workers=workers, max_in_flight=dict(max_in_flight))
