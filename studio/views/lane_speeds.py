"""How fast each lane (a stage on a provider, and on a render node) has been: the ETA's speeds.

A lane's speed is the median of its last :data:`SAMPLES` good calls, any batch's (a provider is as
fast for everyone); :mod:`studio.views.eta` turns speeds into a finish time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from statistics import median

from sqlalchemy import select as sa_select
from sqlalchemy import union_all
from sqlmodel import col

from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.store import Catalog
from studio.states import CallStatus

SAMPLES = 20
"""Good calls per lane the speed is the median of: recent enough to follow a provider that slows."""
WINDOW_LANES = 8
"""Lanes (render nodes) of one provider and stage whose samples one read window holds in practice."""
STAGES = ("render", "upscale", "review")


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they were written as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def held_seconds(started_at: datetime, finished_at: datetime | None, latency_ms: int | None) -> float | None:
    """:func:`studio.views.eta.call_seconds` from a call's columns (reads that select only those)."""
    if finished_at is not None:
        held = (_aware(finished_at) - _aware(started_at)).total_seconds()
        if held > 0:
            return held
    return latency_ms / 1000 if latency_ms else None


def lane_speeds(catalog: Catalog, providers: Iterable[str], now: datetime) -> dict[tuple[str, str, str | None], float]:
    """Median seconds per call of each lane of ``providers``, from its last :data:`SAMPLES` good calls.

    One statement of one bounded window per provider and stage, each read backwards along
    ``ix_providerattempt_provider_stage_status_finished_at``: a single window over all the providers
    ordered by ``finished_at`` let SQLite (no statistics) pick the provider index and sort every
    call the provider ever made (110 ms at 100k takes).
    """
    names = sorted(set(providers))
    if not names:
        return {}
    a = ProviderAttempt
    columns = (col(a.stage), col(a.provider), col(a.node), col(a.started_at), col(a.finished_at), col(a.latency_ms))
    windows = [
        sa_select(*columns)
        .where(
            col(a.provider) == provider,
            col(a.stage) == stage,
            col(a.status) == CallStatus.SUCCEEDED,
            col(a.finished_at).is_not(None),
            col(a.finished_at) <= now,
        )
        .order_by(col(a.finished_at).desc())
        .limit(SAMPLES * WINDOW_LANES)
        .subquery()
        for provider in names
        for stage in STAGES
    ]
    query = union_all(*(sa_select(*window.c) for window in windows)).subquery()
    with catalog.engine.connect() as conn:
        rows = conn.execute(sa_select(*query.c).order_by(query.c.finished_at.desc())).all()
    samples: defaultdict[tuple[str, str, str | None], list[float]] = defaultdict(list)
    for stage, provider, node, started_at, finished_at, latency_ms in rows:
        seconds = held_seconds(started_at, finished_at, latency_ms)
        lane = (stage, provider, node)
        if seconds is not None and len(samples[lane]) < SAMPLES:
            samples[lane].append(seconds)
    return {lane: median(values) for lane, values in samples.items()}
