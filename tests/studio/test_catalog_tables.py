"""Core reads of the catalog give read-only copies with every column, and say so when written to."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from studio.catalog.models import Take
from studio.catalog.stages import begin_stage
from studio.catalog.store import Catalog
from studio.catalog.tables import TAKE, snapshot
from tests.studio.catalog_rows import add_batch


def test_a_snapshot_reads_every_column_and_refuses_writes(catalog: Catalog) -> None:
    (take_id,) = add_batch(catalog, 1)
    catalog.update_take(take_id, params={"steps": 4}, review_score=0.5)
    with catalog.engine.connect() as conn:
        row = conn.execute(select(TAKE).where(TAKE.c.id == take_id)).one()
    copy = snapshot(Take, row, status="rendering")
    ormed = catalog.take(take_id)
    assert copy.model_dump(exclude={"status"}) == ormed.model_dump(exclude={"status"})
    assert copy.params == {"steps": 4} and copy.status == "rendering" and ormed.status == "planned"
    with pytest.raises(AttributeError):
        copy.status = "approved"  # no ORM state: it would change nothing, so it fails loudly
    take, shot = begin_stage(catalog, take_id, "reviewing")
    assert (take.id, shot.key, shot.stage) == (take_id, ormed.shot_key, "pending")
    assert catalog.shot(ormed.shot_key).stage == "reviewing"
