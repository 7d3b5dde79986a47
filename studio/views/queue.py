"""The render queue as `studio queue` and the dashboard's Queue page show it, from the catalog.

Every batch that has not ended, in the order its renders dispatch: by priority (rush, normal,
low), then by when it was launched. That is the order Temporal's task-queue priority hands out
slots in; fairness then shares each priority level among clients, which a list cannot show but
each batch's calls running now (its ETA's "at a time") do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.priority import priority_key
from studio.states import FINISHED_BATCH_STATES, BatchState, CallStatus, ShotStage
from studio.views.eta import Capacity, Eta, batch_eta, eta_short
from studio.views.status import batch_state


@dataclass(frozen=True)
class QueueEntry:
    """A batch in the render queue.

    Attributes:
        batch_id: The batch.
        project: Project name.
        client: Who it is for (the fairness key).
        priority: ``rush``, ``normal`` or ``low``.
        place: ``running`` (its calls run or have run), ``paused``, or ``waiting`` (launched,
            nothing rendered and nothing running yet: its work waits for a slot).
        state: As `studio status` says it (``waiting`` there means shots wait at a human gate).
        created_at: When it was launched.
        rendered: Takes rendered.
        takes: Takes in all.
        published: Shots published.
        shots: Shots in all.
        running: Its provider calls running now.
        eta: When it should finish (``None``: nothing measured yet).
    """

    batch_id: str
    project: str
    client: str
    priority: str
    place: str
    state: str
    created_at: datetime
    rendered: int
    takes: int
    published: int
    shots: int
    running: int
    eta: Eta | None

    def to_json(self) -> dict[str, Any]:
        """One element of `studio queue --json`'s ``batches``."""
        return {
            "batch": self.batch_id,
            "project": self.project,
            "client": self.client,
            "priority": self.priority,
            "place": self.place,
            "state": self.state,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "rendered": self.rendered,
            "takes": self.takes,
            "published": self.published,
            "shots": self.shots,
            "running": self.running,
            "eta": self.eta.to_json() if self.eta else None,
        }

    def eta_label(self) -> str:
        """The ETA in a few words, or what the batch waits for instead."""
        if self.place == BatchState.PAUSED:
            return "paused"
        if self.place == "waiting" and self.eta is None:
            return "waits for a slot"
        return eta_short(self.eta)


def dispatch_order(batch: Batch) -> tuple[int, datetime]:
    """Sort key: priority first (rush before normal before low), then launch time."""
    return priority_key(batch.priority), batch.created_at


def unfinished_batches(catalog: Catalog) -> list[Batch]:
    """Batches that have not ended, in dispatch order."""
    with catalog.session() as s:
        rows = list(s.exec(select(Batch).where(col(Batch.state).not_in(list(FINISHED_BATCH_STATES)))))
    return sorted(rows, key=dispatch_order)


def queue_entry(catalog: Catalog, batch: Batch, capacity: Capacity | None = None) -> QueueEntry:
    """One batch's line of the queue."""
    shots = catalog.shots(batch.id)
    takes = catalog.batch_takes(batch.id)
    stages = Counter(s.stage for s in shots)
    running = sum(1 for a in catalog.attempts(batch_id=batch.id) if a.status == CallStatus.STARTED)
    rendered = sum(1 for t in takes if t.asset_key)
    place: str
    if batch.paused_at is not None:
        place = BatchState.PAUSED
    elif rendered or running:
        place = "running"
    else:
        place = "waiting"
    return QueueEntry(
        batch_id=batch.id,
        project=batch.project_name,
        client=batch.client or batch.project_slug,
        priority=batch.priority,
        place=place,
        state=batch_state(batch, stages),
        created_at=batch.created_at,
        rendered=rendered,
        takes=len(takes) or batch.total_takes,
        published=stages.get(ShotStage.PUBLISHED, 0),
        shots=batch.total_shots,
        running=running,
        eta=batch_eta(catalog, batch.id, capacity=capacity) if place != BatchState.PAUSED else None,
    )


def render_queue(catalog: Catalog, capacity: Capacity | None = None) -> list[QueueEntry]:
    """Every batch that has not ended, in dispatch order, with its progress and ETA."""
    return [queue_entry(catalog, batch, capacity) for batch in unfinished_batches(catalog)]
