"""The catalog: where batches, shots, takes and every provider call are written down.

Each write here is idempotent (keyed by ids the caller derives deterministically), because the
activities that call it run at least once and may run again after a crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, update
from sqlmodel import col, select

from studio import ids
from studio.catalog.board_queries import BoardQueries
from studio.catalog.engine import engine_for
from studio.catalog.lineage_queries import LineageQueries
from studio.catalog.models import (
    Approval,
    Batch,
    ProviderAttempt,
    Publication,
    Shot,
    Take,
    utcnow,
)
from studio.catalog.page_queries import PageQueries
from studio.catalog.review_queries import ReviewQueries
from studio.catalog.tables import ATTEMPT, BATCH, SHOT, TAKE, row_values
from studio.errors import NotFound
from studio.states import FINISHED_BATCH_STATES, BatchState, CallStatus, ShotStage, TakeStatus


class Catalog(LineageQueries, ReviewQueries, BoardQueries, PageQueries):
    """Reads and writes of the catalog, one short transaction each.

    Args:
        engine: SQLAlchemy engine (see :func:`engine_for`).
    """

    @classmethod
    def open(cls, url: str) -> Catalog:
        """Open the catalog at ``url``, creating or upgrading its schema first if needed (:mod:`studio.catalog.migrations`)."""
        return cls(engine_for(url))

    # -- batches -------------------------------------------------------------------------

    def add_batch(self, batch: Batch) -> Batch:
        """Insert ``batch`` unless a batch with its id exists; return the stored row."""
        with self.session() as s:
            existing = s.get(Batch, batch.id)
            if existing is not None:
                return existing
            s.add(batch)
            return batch

    def batch(self, batch_id: str) -> Batch:
        """The batch ``batch_id``; raises :class:`NotFound`."""
        with self.session() as s:
            row = s.get(Batch, batch_id)
        if row is None:
            raise NotFound("batch", batch_id)
        return row

    def batches(self, limit: int = 50) -> list[Batch]:
        """The newest batches first."""
        with self.session() as s:
            return list(s.exec(select(Batch).order_by(col(Batch.created_at).desc()).limit(limit)))

    def set_batch_state(self, batch_id: str, state: str, *, error: str | None = None) -> None:
        """Move a batch to ``state``; a terminal state stamps ``finished_at`` once."""
        with self.session() as s:
            row = s.get(Batch, batch_id)
            if row is None:
                raise NotFound("batch", batch_id)
            row.state = state
            row.error = error
            if state in FINISHED_BATCH_STATES and row.finished_at is None:
                row.finished_at = utcnow()
            elif state not in FINISHED_BATCH_STATES:
                row.finished_at = None
            s.add(row)

    # -- shots and takes -------------------------------------------------------------------

    def add_shots(self, batch_id: str, shots: Sequence[Shot], takes: Sequence[Take]) -> None:
        """Insert the storyboard's shots and planned takes, skipping any already present.

        One multi-row INSERT per table, from the objects' values: they may be :func:`detached`.
        """
        with self.engine.begin() as conn:
            have_shots = set(conn.execute(select(SHOT.c.key).where(SHOT.c.batch_id == batch_id)).scalars())
            have_takes = set(conn.execute(select(TAKE.c.id).where(TAKE.c.batch_id == batch_id)).scalars())
            new_shots = [row_values(SHOT, shot) for shot in shots if shot.key not in have_shots]
            new_takes = [row_values(TAKE, take) for take in takes if take.id not in have_takes]
            if new_shots:
                conn.execute(insert(SHOT), new_shots)
            if new_takes:
                conn.execute(insert(TAKE), new_takes)
            conn.execute(
                update(BATCH)
                .where(BATCH.c.id == batch_id)
                .values(
                    total_shots=len(have_shots | {shot.key for shot in shots}),
                    total_takes=len(have_takes | {take.id for take in takes}),
                )
            )
            conn.execute(
                update(BATCH)
                .where(BATCH.c.id == batch_id, BATCH.c.state == BatchState.QUEUED)
                .values(state=BatchState.RUNNING)
            )

    def shot_ids(self, batch_id: str) -> list[str]:
        """Shot ids of a batch in storyboard order."""
        with self.session() as s:
            rows = s.exec(select(Shot.shot_id).where(Shot.batch_id == batch_id).order_by(col(Shot.position)))
            return list(rows)

    def shot(self, key: str) -> Shot:
        """The shot ``<batch>/<shot>``; raises :class:`NotFound`."""
        with self.session() as s:
            row = s.get(Shot, key)
        if row is None:
            raise NotFound("shot", key)
        return row

    def shot_with_takes(self, key: str) -> tuple[Shot, list[Take]]:
        """A shot and its takes by number, in one read."""
        with self.session() as s:
            shot = s.get(Shot, key)
            if shot is None:
                raise NotFound("shot", key)
            return shot, list(s.exec(select(Take).where(Take.shot_key == key).order_by(col(Take.number))))

    def shots(self, batch_id: str) -> list[Shot]:
        """Every shot of a batch in storyboard order."""
        with self.session() as s:
            return list(s.exec(select(Shot).where(Shot.batch_id == batch_id).order_by(col(Shot.position))))

    def takes(self, shot_key: str) -> list[Take]:
        """Every take of a shot by number."""
        with self.session() as s:
            return list(s.exec(select(Take).where(Take.shot_key == shot_key).order_by(col(Take.number))))

    def batch_takes(self, batch_id: str) -> list[Take]:
        """Every take of a batch."""
        with self.session() as s:
            return list(s.exec(select(Take).where(Take.batch_id == batch_id)))

    def take(self, take_id: str) -> Take:
        """The take ``take_id``; raises :class:`NotFound`."""
        with self.session() as s:
            row = s.get(Take, take_id)
        if row is None:
            raise NotFound("take", take_id)
        return row

    def takes_by_id(self, take_ids: Sequence[str]) -> dict[str, Take]:
        """The takes among ``take_ids`` that exist, by id, in one read."""
        wanted = list(dict.fromkeys(take_ids))
        found: dict[str, Take] = {}
        with self.session() as s:
            for start in range(0, len(wanted), 500):  # under every database's bound-parameter limit
                query = select(Take).where(col(Take.id).in_(wanted[start : start + 500]))
                found.update((take.id, take) for take in s.exec(query))
        return found

    def add_round(
        self,
        shot_key: str,
        round_: int,
        note: str,
        seeds: Sequence[int],
        edits: Sequence[Mapping[str, Any]] = (),
    ) -> list[str]:
        """Add a round of takes to a shot (changes requested): the latest prompt plus ``note``.

        Args:
            shot_key: The shot.
            round_: The new round's number.
            note: The note the changes were asked with.
            seeds: One seed per new take.
            edits: For a targeted round, one entry per seed of the take's columns that make it an
                edit of a pinned take (``prompt``, ``parent_take_id``, ``init_key``, ``mask_key``,
                ``strength``, ``edit``: :meth:`studio.review.rework.TakeEdit.fields`); empty for a
                round made from the prompt.

        Idempotent: when the round already exists its take ids are returned unchanged.

        Raises:
            ValueError: ``edits`` is neither empty nor one per seed.
        """
        if edits and len(edits) != len(seeds):
            raise ValueError(f"a round of {len(seeds)} takes needs one edit per take (got {len(edits)})")
        with self.session() as s:
            takes = list(s.exec(select(Take).where(Take.shot_key == shot_key).order_by(col(Take.number))))
            existing = [t.id for t in takes if t.round == round_]
            if existing:
                return existing
            latest = max(takes, key=lambda t: t.number)
            prompt = f"{latest.prompt}, {note.strip()}" if note.strip() else latest.prompt
            shared: dict[str, Any] = dict(
                batch_id=latest.batch_id,
                shot_key=shot_key,
                round=round_,
                prompt=prompt,
                negative=latest.negative,
                width=latest.width,
                height=latest.height,
            )
            new = [
                Take(
                    id=ids.take_id(shot_key, latest.number + i),
                    number=latest.number + i,
                    seed=seed,
                    **(shared | dict(edits[i - 1]) if edits else shared),
                )
                for i, seed in enumerate(seeds, start=1)
            ]
            s.add_all(new)
            return [t.id for t in new]

    def update_shot(self, key: str, **fields: Any) -> None:
        """Set fields of a shot (stage, final_take_id, error)."""
        with self.session() as s:
            row = s.get(Shot, key)
            if row is None:
                raise NotFound("shot", key)
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            s.add(row)

    def update_take(self, take_id: str, **fields: Any) -> None:
        """Set fields of a take (one UPDATE: stages call this once per take, no need to load it)."""
        with self.engine.begin() as conn:
            if conn.execute(update(TAKE).where(TAKE.c.id == take_id).values(**fields)).rowcount == 0:
                raise NotFound("take", take_id)

    # -- provider attempts -----------------------------------------------------------------

    def finish_attempt(self, attempt_id: int, *, status: str, started: datetime | None = None, **fields: Any) -> None:
        """Close a call with its outcome (status, error_class, error, latency_ms, cost_usd, job_id)."""
        with self.session() as s:
            row = s.get(ProviderAttempt, attempt_id)
            if row is None:
                raise NotFound("attempt", str(attempt_id))
            row.status = status
            row.finished_at = utcnow()
            for name, value in fields.items():
                setattr(row, name, value)
            s.add(row)

    def complete_attempt(
        self, attempt_id: int, take_id: str, take_fields: dict[str, Any], **attempt_fields: Any
    ) -> None:
        """Close a successful call, store its result on the take and charge the take, in one transaction.

        One transaction, so a crash leaves either a ``started`` call (to be made again) or a
        finished take, never a result without its take or a take without its call.
        """
        with self.engine.begin() as conn:
            closed = conn.execute(
                update(ATTEMPT)
                .where(ATTEMPT.c.id == attempt_id)
                .values(status=CallStatus.SUCCEEDED, finished_at=utcnow(), **attempt_fields)
                .returning(ATTEMPT.c.cost_usd)
            ).first()
            # A succeeded call charges its take.
            charged = {"cost_usd": func.coalesce(TAKE.c.cost_usd, 0.0) + closed.cost_usd} if closed is not None else {}
            updated = conn.execute(update(TAKE).where(TAKE.c.id == take_id).values(**take_fields, **charged))
            if closed is None or updated.rowcount == 0:
                raise NotFound("take", take_id)

    def set_attempt_job(self, attempt_id: int, job_id: str) -> None:
        """Save a vendor job id on a call as soon as the vendor gives it, before waiting on it."""
        with self.session() as s:
            row = s.get(ProviderAttempt, attempt_id)
            if row is None:
                raise NotFound("attempt", str(attempt_id))
            row.job_id = job_id
            s.add(row)

    def set_attempt_progress(self, attempt_id: int, progress: dict[str, Any]) -> None:
        """Save the last progress a self-hosted node reported for a call (queue position, steps).

        One UPDATE: it runs at every progress report of a job.
        """
        with self.engine.begin() as conn:
            if conn.execute(update(ATTEMPT).where(ATTEMPT.c.id == attempt_id).values(progress=progress)).rowcount == 0:
                raise NotFound("attempt", str(attempt_id))

    def attempts(self, *, batch_id: str | None = None, take_id: str | None = None) -> list[ProviderAttempt]:
        """Provider calls of a batch or a take, oldest first."""
        with self.session() as s:
            query = select(ProviderAttempt)
            if batch_id is not None:
                query = query.where(ProviderAttempt.batch_id == batch_id)
            if take_id is not None:
                query = query.where(ProviderAttempt.take_id == take_id)
            return list(s.exec(query.order_by(col(ProviderAttempt.id))))

    # -- approvals and publications --------------------------------------------------------

    def add_approval(self, approval: Approval) -> Approval:
        """Record a gate decision once per (shot, round)."""
        with self.session() as s:
            existing = s.exec(
                select(Approval).where(Approval.shot_key == approval.shot_key, Approval.round == approval.round)
            ).first()
            if existing is not None:
                return existing
            s.add(approval)
            return approval

    def approvals(self, *, batch_id: str | None = None, shot_key: str | None = None) -> list[Approval]:
        """Gate decisions, oldest first."""
        with self.session() as s:
            query = select(Approval)
            if batch_id is not None:
                query = query.where(Approval.batch_id == batch_id)
            if shot_key is not None:
                query = query.where(Approval.shot_key == shot_key)
            return list(s.exec(query.order_by(col(Approval.id))))

    def publications(self, batch_id: str) -> list[Publication]:
        """Live (not unpublished) files of a batch."""
        with self.session() as s:
            query = select(Publication).where(Publication.batch_id == batch_id, col(Publication.removed_at).is_(None))
            return list(s.exec(query.order_by(col(Publication.id))))

    def mark_unpublished(self, publication_ids: Sequence[int]) -> int:
        """Stamp ``removed_at`` on the given publications (those not stamped yet); returns how many.

        Ids rather than a batch, so a shot that publishes while its batch is being taken down
        keeps its live row.
        """
        if not publication_ids:
            return 0
        with self.session() as s:
            query = select(Publication).where(
                col(Publication.id).in_(list(publication_ids)),
                col(Publication.removed_at).is_(None),
            )
            rows = list(s.exec(query))
            now = utcnow()
            for row in rows:
                row.removed_at = now
                s.add(row)
            return len(rows)

    # -- cancellation ---------------------------------------------------------------------------

    def cancel_shots(
        self, shot_keys: Sequence[str], *, unless: Sequence[str] = (ShotStage.PUBLISHED, ShotStage.REJECTED)
    ) -> list[str]:
        """Mark shots ``cancelled`` and their unrendered takes too, in one transaction.

        Args:
            shot_keys: The shots (``<batch>/<shot>``).
            unless: Stages a shot keeps: by default a shot that reached ``published`` or
                ``rejected`` meanwhile keeps it, the file or the decision being real.

        Returns:
            The keys of the shots marked (those already ``cancelled`` are not counted).
        """
        if not shot_keys:
            return []
        with self.session() as s:
            shots = list(s.exec(select(Shot).where(col(Shot.key).in_(list(shot_keys)))))
            marked = [shot for shot in shots if shot.stage not in (*unless, ShotStage.CANCELLED)]
            now = utcnow()
            for shot in marked:
                shot.stage, shot.updated_at = ShotStage.CANCELLED, now
                s.add(shot)
            if marked:
                # Rendered takes keep their status: their images exist and can still be replayed.
                takes = s.exec(
                    select(Take).where(
                        col(Take.shot_key).in_([shot.key for shot in marked]),
                        col(Take.status).in_((TakeStatus.PLANNED, TakeStatus.RENDERING)),
                    )
                )
                for take in takes:
                    take.status = TakeStatus.CANCELLED
                    s.add(take)
            return [shot.key for shot in marked]
