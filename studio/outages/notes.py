"""Outages written down for readers: what the workers wait for right now, in the catalog.

Workers note an outage of the asset store, the disk or a provider when it starts and while it
lasts (:class:`~studio.catalog.models.Outage`); `studio status`, `studio run --wait` and the dashboard
read the rows seen recently. An outage of the catalog cannot be noted in it: a reader that
cannot reach the catalog says "waiting for the catalog" itself (see :func:`catalog_outage`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete, select

from studio.catalog.models import Outage, utcnow
from studio.catalog.store import Catalog
from studio.outages.classify import classify_outage

FRESH = timedelta(seconds=90)
"""A note not refreshed for this long is from a worker that stopped: readers ignore it."""


def note_outage(catalog: Catalog, what: str, detail: str, since: datetime) -> None:
    """Write (or refresh) that ``what`` has been down since ``since``."""
    with catalog.session() as s:
        row = s.get(Outage, what)
        if row is None:
            s.add(Outage(what=what, detail=detail[:500], since=since, seen_at=utcnow()))
        else:
            row.detail, row.seen_at = detail[:500], utcnow()


def clear_outage(catalog: Catalog, what: str) -> None:
    """``what`` answers again."""
    with catalog.session() as s:
        s.exec(delete(Outage).where(col(Outage.what) == what))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def current_outages(catalog: Catalog) -> list[dict[str, Any]]:
    """What the workers wait for now: ``{"for", "since", "last_error"}`` per outage, oldest first."""
    cutoff = utcnow() - FRESH
    with catalog.session() as s:
        rows = list(s.exec(select(Outage)))
    return [
        {"for": r.what, "since": _aware(r.since).isoformat(timespec="seconds"), "last_error": r.detail}
        for r in sorted(rows, key=lambda r: _aware(r.since))
        if _aware(r.seen_at) >= cutoff
    ]


def catalog_outage(err: BaseException) -> str | None:
    """The line to show when reading the catalog failed because it is down, else ``None``."""
    outage = classify_outage(err)
    if outage is None or outage.resource.label != "the catalog":
        return None
    return f"waiting for the catalog: {outage.detail}"
