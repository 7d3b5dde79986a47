"""A steady batch's catalog rows, recorded once and read back as they stood at any moment.

The batch renders on one provider, a fixed number of calls at a time, each call taking a second
give or take a fifth (seeded, so always the same rows). :func:`rows_at` gives the rows a catalog
held at a past moment: the takes rendered by then, the calls finished by then, the calls running
then still ``started``. The ETA read from those rows can then be compared with the batch's real,
recorded finish, with no clock involved.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.catalog.models import Batch, ProviderAttempt, Shot, Take
from studio.catalog.store import Catalog

LAUNCHED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
STORYBOARD = timedelta(seconds=0.5)
PUBLISH = timedelta(seconds=0.2)


@dataclass(frozen=True)
class Call:
    """One recorded render call."""

    take: int
    started: datetime
    finished: datetime


@dataclass(frozen=True)
class SteadyBatch:
    """A finished batch as recorded: its calls and its real finish."""

    batch_id: str
    shots: int
    variants: int
    provider: str
    node: str | None
    calls: tuple[Call, ...]
    finished_at: datetime


def record_steady_batch(
    batch_id: str = "steady-a1b2c3",
    *,
    shots: int = 20,
    variants: int = 3,
    at_once: int = 4,
    seconds: float = 1.0,
    provider: str = "replicate",
    node: str | None = None,
    seed: int = 16,
) -> SteadyBatch:
    """Schedule every take on ``at_once`` slots, each call ``seconds`` ± 20% (seeded)."""
    rng = random.Random(seed)
    free = [LAUNCHED + STORYBOARD] * at_once
    heapq.heapify(free)
    calls = []
    for take in range(shots * variants):
        start = heapq.heappop(free)
        end = start + timedelta(seconds=seconds * rng.uniform(0.8, 1.2))
        calls.append(Call(take, start, end))
        heapq.heappush(free, end)
    finish = max(c.finished for c in calls) + PUBLISH
    return SteadyBatch(batch_id, shots, variants, provider, node, tuple(calls), finish)


def moment(batch: SteadyBatch, fraction: float) -> datetime:
    """The time ``fraction`` of the way from launch to the batch's recorded finish."""
    return LAUNCHED + (batch.finished_at - LAUNCHED) * fraction


def _batch_row(batch: SteadyBatch, fields: dict[str, Any]) -> Batch:
    return Batch(
        id=batch.batch_id,
        project_name="Steady",
        project_slug="steady",
        project_source="project.toml",
        project_key="k",
        seed=1,
        output_dir="/tmp/steady",
        total_shots=batch.shots,
        total_takes=batch.shots * batch.variants,
        **{"created_at": LAUNCHED, **fields},
    )


def _shot_rows(batch: SteadyBatch) -> list[Shot]:
    return [
        Shot(
            key=f"{batch.batch_id}/s{n:02}",
            batch_id=batch.batch_id,
            shot_id=f"s{n:02}",
            position=n,
            prompt="a lighthouse",
            width=64,
            height=64,
            variants=batch.variants,
            chain=[batch.provider],
            stage="rendering",
        )
        for n in range(batch.shots)
    ]


def write_rows_at(catalog: Catalog, batch: SteadyBatch, at: datetime, **batch_fields: Any) -> None:
    """Write the batch's rows into ``catalog`` as they stood at ``at`` (the batch still running).

    ``batch_fields`` set other fields of the batch row (``priority``, ``client``, ``created_at``).
    """
    catalog.add_batch(_batch_row(batch, batch_fields))
    shots = _shot_rows(batch)
    takes, attempts = [], []
    for call in batch.calls:
        shot = shots[call.take // batch.variants]
        take_id = f"{shot.key}/{call.take % batch.variants + 1}"
        done, running = call.finished <= at, call.started <= at < call.finished
        takes.append(
            Take(
                id=take_id,
                batch_id=batch.batch_id,
                shot_key=shot.key,
                number=call.take % batch.variants + 1,
                prompt=shot.prompt,
                width=64,
                height=64,
                status="rendered" if done else "rendering" if running else "planned",
                provider=batch.provider if done else None,
                asset_key=f"{call.take:064x}" if done else None,
            )
        )
        if done or running:
            attempts.append(
                ProviderAttempt(
                    take_id=take_id,
                    batch_id=batch.batch_id,
                    stage="render",
                    provider=batch.provider,
                    node=batch.node,
                    status="succeeded" if done else "started",
                    started_at=call.started,
                    finished_at=call.finished if done else None,
                    latency_ms=round((call.finished - call.started).total_seconds() * 1000) if done else None,
                )
            )
    catalog.add_shots(batch.batch_id, shots, takes)
    with catalog.session() as s:
        s.add_all(attempts)
