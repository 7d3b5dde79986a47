"""The catalog's reads for a page of batches: counts per batch in one aggregate query each.

A base of :class:`studio.catalog.store.Catalog`. `studio status` and the Batches page list up to
50 batches: loading every shot and take of each (one query per batch) cost them ten times more
at 100k takes than at 1k; these read one row per batch and stage instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import col, select

from studio.catalog.models import Approval, Shot, Take
from studio.catalog.sessions import CatalogSessions
from studio.states import TakeStatus


@dataclass(frozen=True)
class TakeCounts:
    """A batch's takes counted the way its stage board counts them.

    Attributes:
        takes: Takes planned.
        rendered: Takes with an image.
        failed: Takes no provider could render.
        reviewed: Takes with a review score.
        passed: Takes the automated review passed.
        upscaling: Takes of shots that upscale (``upscale`` > 1).
        upscaled: Of those, takes with their final image.
    """

    takes: int = 0
    rendered: int = 0
    failed: int = 0
    reviewed: int = 0
    passed: int = 0
    upscaling: int = 0
    upscaled: int = 0


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has(column: str | None) -> ColumnElement[bool]:
    # What Python's truth of the value says: neither NULL nor empty.
    return and_(col(column).is_not(None), col(column) != "")


class BoardQueries(CatalogSessions):
    """Per-batch counts for many batches at once, one short transaction each."""

    def shot_stage_counts(self, batch_ids: Sequence[str]) -> dict[str, Counter[str]]:
        """Each batch's shots counted by stage (an empty counter for a batch with none)."""
        counts: dict[str, Counter[str]] = {batch_id: Counter() for batch_id in batch_ids}
        if not batch_ids:
            return counts
        query = (
            select(Shot.batch_id, Shot.stage, func.count())
            .where(col(Shot.batch_id).in_(list(batch_ids)))
            .group_by(col(Shot.batch_id), col(Shot.stage))
        )
        with self.session() as s:
            for batch_id, stage, n in s.exec(query):
                counts[batch_id][stage] = n
        return counts

    def take_counts(self, batch_ids: Sequence[str]) -> dict[str, TakeCounts]:
        """Each batch's takes counted for its stage board (all zero for a batch with none).

        Two aggregates: every take of the batches, then only the takes of shots that upscale
        (few), found from the batches' shots; joining every take to its shot let Postgres hash
        the whole shot table.
        """
        counts = {batch_id: TakeCounts() for batch_id in batch_ids}
        if not batch_ids:
            return counts
        ids = list(batch_ids)
        query = (
            select(  # type: ignore[call-overload]  # six aggregate columns: past sqlmodel's typed overloads
                Take.batch_id,
                func.count(),
                _count(_has(Take.asset_key)),
                _count(col(Take.status) == TakeStatus.FAILED),
                _count(col(Take.review_score).is_not(None)),
                _count(col(Take.review_passed).is_(True)),
            )
            .where(col(Take.batch_id).in_(ids))
            .group_by(col(Take.batch_id))
        )
        upscaling = (
            select(Take.batch_id, func.count(), _count(_has(Take.final_key)))
            .join(Shot, col(Shot.key) == col(Take.shot_key))
            .where(col(Shot.batch_id).in_(ids), col(Shot.upscale) > 1)
            .group_by(col(Take.batch_id))
        )
        with self.session() as s:
            upscales = {batch_id: (int(n), int(done)) for batch_id, n, done in s.exec(upscaling)}
            for batch_id, takes, rendered, failed, reviewed, passed in s.exec(query):
                upscale = upscales.get(batch_id, (0, 0))
                counts[batch_id] = TakeCounts(
                    int(takes), int(rendered), int(failed), int(reviewed), int(passed), upscale[0], upscale[1]
                )
        return counts

    def decision_counts(self, batch_ids: Sequence[str]) -> dict[str, Counter[str]]:
        """Each batch's gate decisions counted by decision."""
        counts: dict[str, Counter[str]] = {batch_id: Counter() for batch_id in batch_ids}
        if not batch_ids:
            return counts
        query = (
            select(Approval.batch_id, Approval.decision, func.count())
            .where(col(Approval.batch_id).in_(list(batch_ids)))
            .group_by(col(Approval.batch_id), col(Approval.decision))
        )
        with self.session() as s:
            for batch_id, decision, n in s.exec(query):
                counts[batch_id][decision] = n
        return counts

    def first_shot_errors(self, batch_ids: Sequence[str], stage: str) -> dict[str, str | None]:
        """Per batch, the error of its first shot (storyboard order) at ``stage`` that has one."""
        errors: dict[str, str | None] = dict.fromkeys(batch_ids)
        if not batch_ids:
            return errors
        query = (
            select(Shot.batch_id, Shot.error)
            .where(col(Shot.batch_id).in_(list(batch_ids)), Shot.stage == stage, col(Shot.error).is_not(None))
            .order_by(col(Shot.batch_id), col(Shot.position))
        )
        with self.session() as s:
            for batch_id, error in s.exec(query):
                if errors[batch_id] is None and error:
                    errors[batch_id] = error
        return errors
