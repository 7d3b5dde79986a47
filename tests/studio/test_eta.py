"""The ETA of a running batch, read from catalog rows as they stood at a past moment and compared
with the same batch's recorded finish (no clock, no timing: the rows carry the times)."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.views.eta import NOT_YET, Capacity, batch_eta, eta_text
from tests.studio.eta_rows import LAUNCHED, SteadyBatch, moment, record_steady_batch, write_rows_at


def catalog_at(tmp_path: Path, batch: SteadyBatch, fraction: float) -> Catalog:
    """A fresh catalog holding the batch's rows as they stood ``fraction`` of the way through."""
    catalog = Catalog.open(f"sqlite:///{tmp_path / f'at-{fraction}.db'}")
    write_rows_at(catalog, batch, moment(batch, fraction))
    return catalog


@pytest.mark.parametrize("at_once", [1, 4, 16])
@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_a_steady_batch_lands_within_a_fifth_of_its_real_finish(tmp_path: Path, fraction: float, at_once: int) -> None:
    batch = record_steady_batch(shots=80, variants=2, at_once=at_once)
    now = moment(batch, fraction)
    eta = batch_eta(catalog_at(tmp_path, batch, fraction), batch.batch_id, now=now)
    assert eta is not None
    real_left = (batch.finished_at - now).total_seconds()
    # Within 20% of the time that was really left (a stricter test than 20% of the batch's length).
    assert abs((eta.finish_at - batch.finished_at).total_seconds()) <= 0.2 * real_left
    assert eta.basis.endswith(f"s/image on replicate, {at_once} at a time")


def test_the_basis_says_what_is_left_and_where(tmp_path: Path) -> None:
    batch = record_steady_batch(shots=10, variants=2, at_once=4, node="http://gpu-box:8188")
    eta = batch_eta(catalog_at(tmp_path, batch, 0.5), batch.batch_id, now=moment(batch, 0.5))
    assert eta is not None
    left = eta.takes_left
    assert 0 < left < 20 and eta.basis.startswith(f"{left} takes left at 1.")
    assert eta.basis.endswith("s/image on replicate @ gpu-box:8188, 4 at a time")
    assert eta.to_json()["takes_left"] == left and eta_text(eta).startswith("ETA ")


def test_nothing_to_measure_before_the_first_render_ends(tmp_path: Path) -> None:
    batch = record_steady_batch(shots=4, variants=2, at_once=4)
    first_end = min(c.finished for c in batch.calls)
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'early.db'}")
    before = first_end - (first_end - LAUNCHED) / 10
    write_rows_at(catalog, batch, before)
    assert batch_eta(catalog, batch.batch_id, now=before) is None
    assert eta_text(None) == NOT_YET == "ETA after the first renders"


def test_a_batch_with_nothing_running_gets_a_share_of_the_provider_limit(tmp_path: Path) -> None:
    # Another batch measured replicate; this one has not started a call yet.
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'shared.db'}")
    measured = record_steady_batch("older-aaaaaa", shots=10, variants=2, at_once=4)
    write_rows_at(catalog, measured, measured.finished_at)
    waiting = record_steady_batch("newer-bbbbbb", shots=8, variants=1, at_once=4)
    write_rows_at(catalog, waiting, LAUNCHED)  # nothing started
    eta = batch_eta(catalog, waiting.batch_id, capacity=Capacity(per_worker=4, workers=2), now=measured.finished_at)
    assert eta is not None and eta.takes_left == 8
    assert eta.basis.endswith("s/image on replicate, 8 at a time")  # 4 per worker x 2 workers, no one else busy
    assert 0.8 <= eta.seconds_left <= 1.2  # 8 takes at ~1 s each, 8 at a time


def test_an_ended_batch_has_no_eta(tmp_path: Path) -> None:
    batch = record_steady_batch(shots=2, variants=1)
    catalog = catalog_at(tmp_path, batch, 0.9)
    with catalog.session() as s:
        row = s.get(Batch, batch.batch_id)
        assert row is not None
        row.state = "published"
        s.add(row)
    assert batch_eta(catalog, batch.batch_id, now=batch.finished_at) is None
