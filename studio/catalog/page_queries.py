"""The catalog's reads of a batch a page at a time: the shot grid's page, and publications in chunks.

A base of :class:`studio.catalog.store.Catalog`. The Batch page shows 24 shots and refreshes every
3 s while the batch runs; loading every shot, take and call of a 10,000-shot batch for that took a
second, so the filter is applied in SQL, the page is cut by OFFSET/LIMIT in storyboard order, and
the filter buttons' numbers are COUNTs. The manifest of a 10,000-shot batch reads its publications
a chunk at a time for the same reason (memory, there).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, func, or_
from sqlmodel import col, select

from studio.catalog.models import ProviderAttempt, Publication, Shot, Take
from studio.catalog.sessions import CatalogSessions
from studio.states import HUMAN_WAIT_STAGES, ShotStage, TakeStatus

# What the grid can show: every shot, shots waiting for a human (an approval gate or the budget),
# rejected shots, and failed shots together with shots holding a take no provider could render.
SHOT_FILTERS = ("all", "waiting", "rejected", "failed")


def shot_filter(batch_id: str, which: str) -> ColumnElement[bool]:
    """The condition on a batch's shots that filter ``which`` keeps.

    Raises:
        ValueError: ``which`` is not one of :data:`SHOT_FILTERS`.
    """
    if which == "all":
        return col(Shot.batch_id) == batch_id
    if which == "waiting":
        return col(Shot.stage).in_([str(stage) for stage in HUMAN_WAIT_STAGES])
    if which == "rejected":
        return col(Shot.stage) == ShotStage.REJECTED
    if which == "failed":
        failed_takes = select(Take.shot_key).where(Take.batch_id == batch_id, Take.status == TakeStatus.FAILED)
        return or_(col(Shot.stage) == ShotStage.FAILED, col(Shot.key).in_(failed_takes))
    raise ValueError(f"unknown filter {which!r} (use one of {', '.join(SHOT_FILTERS)})")


class PageQueries(CatalogSessions):
    """A page of one batch's shots, one short transaction each."""

    def shot_filter_counts(self, batch_id: str) -> dict[str, int]:
        """How many of the batch's shots each of :data:`SHOT_FILTERS` keeps, in one aggregate query."""
        sums = [func.coalesce(func.sum(case((shot_filter(batch_id, which), 1), else_=0)), 0) for which in SHOT_FILTERS]
        query = select(*sums).where(col(Shot.batch_id) == batch_id)
        with self.session() as s:
            row = s.exec(query).one()
        return {which: int(n) for which, n in zip(SHOT_FILTERS, row, strict=True)}

    def shots_page(self, batch_id: str, which: str, *, offset: int, limit: int) -> list[Shot]:
        """The shots filter ``which`` keeps, in storyboard order, from ``offset`` (0-based), at most ``limit``."""
        query = (
            select(Shot)
            .where(col(Shot.batch_id) == batch_id, shot_filter(batch_id, which))
            .order_by(col(Shot.position))
            .offset(max(offset, 0))
            .limit(limit)
        )
        with self.session() as s:
            return list(s.exec(query))

    def shots_takes(self, shot_keys: Sequence[str]) -> list[Take]:
        """The takes of the given shots, by shot and number."""
        if not shot_keys:
            return []
        query = (
            select(Take).where(col(Take.shot_key).in_(list(shot_keys))).order_by(col(Take.shot_key), col(Take.number))
        )
        with self.session() as s:
            return list(s.exec(query))

    def render_calls(self, shot_keys: Sequence[str]) -> list[tuple[str, str]]:
        """``(take id, provider)`` of every render call made for the given shots' takes, oldest first."""
        if not shot_keys:
            return []
        query = (
            select(ProviderAttempt.take_id, ProviderAttempt.provider)
            .join(Take, col(Take.id) == col(ProviderAttempt.take_id))
            .where(col(Take.shot_key).in_(list(shot_keys)), ProviderAttempt.stage == "render")
            .order_by(col(ProviderAttempt.id))
        )
        with self.session() as s:
            return [(take_id, provider) for take_id, provider in s.exec(query)]

    def publication_paths(self, batch_id: str) -> list[str]:
        """The paths of a batch's live (not unpublished) files, in no particular order."""
        query = select(Publication.path).where(Publication.batch_id == batch_id, col(Publication.removed_at).is_(None))
        with self.session() as s:
            return list(s.exec(query))

    def publications_page(self, batch_id: str, *, offset: int, limit: int) -> list[tuple[Publication, Shot]]:
        """A batch's live files with their shots, in storyboard order (a shot's files in the order they
        were published), from ``offset`` (0-based), at most ``limit``."""
        query = (
            select(Publication, Shot)
            .join(Shot, col(Shot.key) == col(Publication.shot_key))
            .where(Publication.batch_id == batch_id, col(Publication.removed_at).is_(None))
            .order_by(col(Shot.position), col(Publication.id))
            .offset(offset)
            .limit(limit)
        )
        with self.session() as s:
            return [(pub, shot) for pub, shot in s.exec(query)]
