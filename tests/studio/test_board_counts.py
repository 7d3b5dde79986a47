"""The Batches page counts a page of batches in a few aggregate queries, and shows what a full
`studio status BATCH` read of each would: same lines, whatever the number of batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.views.batches import batch_costs, batch_line, batches_board
from studio.views.status import batch_summary
from tests.studio.status_rows import LAUNCHED, WAITING, status_batches


@contextmanager
def statements(catalog: Catalog) -> Iterator[list[str]]:
    """The SQL statements run on the catalog inside the block."""
    seen: list[str] = []

    def note(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(catalog.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(catalog.engine, "before_cursor_execute", note)


def test_each_line_is_what_the_batchs_full_summary_shows(catalog: Catalog) -> None:
    ids = status_batches(catalog)  # waiting at gates, budget and a provider; published; queued
    costs = batch_costs(catalog, ids)
    expected = [batch_line(batch_summary(catalog, b.id), costs[b.id]) for b in catalog.batches(50)]
    lines = batches_board(catalog)
    assert {line.batch_id for line in lines} == set(ids)
    assert lines == expected
    waiting = next(line for line in lines if line.batch_id == WAITING)
    assert waiting.waiting_for and waiting.progress["upscale"][1] > 0  # the rows exercise both


def test_the_board_reads_as_many_statements_for_thirty_batches_as_for_three(catalog: Catalog) -> None:
    status_batches(catalog)
    with statements(catalog) as few:
        batches_board(catalog)
    for n in range(27):
        catalog.add_batch(
            Batch(
                id=f"later-{n:02d}",
                project_name="Later",
                project_slug="later",
                project_source="project.toml",
                project_key="k",
                seed=n,
                output_dir=f"/studio/published/later-{n:02d}",
                created_at=LAUNCHED + timedelta(days=1, minutes=n),
            )
        )
    with statements(catalog) as many:
        lines = batches_board(catalog, limit=30)
    assert len(lines) == 30
    assert len(many) == len(few)
