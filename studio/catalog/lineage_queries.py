"""The catalog's lineage and search reads: takes made from others, takes by filter, a take's files.

A base of :class:`studio.catalog.store.Catalog`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from studio.catalog.models import Publication, Take
from studio.catalog.search_queries import prompt_matches
from studio.catalog.sessions import CatalogSessions


class LineageQueries(CatalogSessions):
    """Reads that follow a take's lineage or search takes, one short transaction each."""

    def child_takes(self, parent_ids: Sequence[str]) -> list[Take]:
        """Takes replayed or varied from any of ``parent_ids``, oldest first."""
        if not parent_ids:
            return []
        with self.session() as s:
            query = select(Take).where(col(Take.parent_take_id).in_(list(parent_ids)))
            return list(s.exec(query.order_by(col(Take.created_at), col(Take.id))))

    def search_takes(
        self,
        *,
        prompt: str | None = None,
        seed: int | None = None,
        provider: str | None = None,
        status: str | None = None,
        batch_id: str | None = None,
        limit: int = 50,
    ) -> list[Take]:
        """Takes matching every filter given, newest first, filtered in SQL.

        Args:
            prompt: Words that begin words of the prompt, in any order, case-insensitive, from the
                full-text index (:func:`studio.catalog.search_queries.prompt_matches`).
            seed: The seed used or the seed planned (a vendor may draw its own).
            provider: The provider that rendered the take.
            status: The take's status (``approved``, ``failed``...).
            batch_id: Only this batch's takes.
            limit: At most this many.
        """
        with self.session() as s:
            query = select(Take)
            if prompt:
                query = query.where(prompt_matches(prompt, s.get_bind().dialect.name))
            if seed is not None:
                query = query.where((Take.seed_used == seed) | (Take.seed == seed))
            if provider is not None:
                query = query.where(Take.provider == provider)
            if status is not None:
                query = query.where(Take.status == status)
            if batch_id is not None:
                query = query.where(Take.batch_id == batch_id)
            order = (col(Take.created_at).desc(), col(Take.batch_id), col(Take.shot_key), col(Take.number).desc())
            return list(s.exec(query.order_by(*order).limit(limit)))

    def take_publications(self, take_id: str) -> list[Publication]:
        """Live (not unpublished) files made from a take."""
        with self.session() as s:
            query = select(Publication).where(
                Publication.take_id == take_id,
                col(Publication.removed_at).is_(None),
            )
            return list(s.exec(query.order_by(col(Publication.id))))
