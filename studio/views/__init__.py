"""Read models for the dashboard and `studio status`, read from the catalog, never written: frozen
dataclasses the pages and the CLI read by attribute. status builds a batch's summary and the batch
list (summary holds their models, whose ``to_json()`` is the `--json` output), batches the
dashboard's batch board, shot grid and budget panel, gates the shots waiting for a human, lineage a
take's recipe and family."""

from __future__ import annotations

from studio.views.summary import BatchOverview, BatchSummary, StageProgress, WaitingFor
from studio.views.take_row import TakeRow

__all__ = ["BatchOverview", "BatchSummary", "StageProgress", "TakeRow", "WaitingFor"]
