"""The ETA of a running batch, read from catalog rows as they stood at a past moment and compared
with the same batch's recorded finish (no clock, no timing: the rows carry the times)."""

from __future__ import annotations

from datetime import datetime
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


def _unrendered(batch: SteadyBatch, now: datetime) -> int:
    """Takes whose call had not ended by ``now``, counted from the recording itself."""
    return sum(1 for call in batch.calls if call.finished > now)


@pytest.mark.parametrize("at_once", [1, 4, 16])
def test_the_eta_counts_what_is_left_and_draws_nearer_as_the_batch_goes(tmp_path: Path, at_once: int) -> None:
    """Read at 25%, 50% and 75% of a recorded batch: the takes left are the recording's, the
    slots are the ones it used, and each later reading has less time left than the one before.

    How close the ETA lands is a figure, not a test: `bench/eta_live.py` measures it.
    """
    batch = record_steady_batch(shots=80, variants=2, at_once=at_once)
    left = []
    for fraction in (0.25, 0.5, 0.75):
        now = moment(batch, fraction)
        eta = batch_eta(catalog_at(tmp_path, batch, fraction), batch.batch_id, now=now)
        assert eta is not None
        assert eta.takes_left == _unrendered(batch, now)
        assert eta.basis.endswith(f"s/image on replicate, {at_once} at a time")
        assert eta.finish_at > now
        left.append(eta.seconds_left)
    assert left[0] > left[1] > left[2] > 0


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
    now = measured.finished_at
    eta = batch_eta(catalog, waiting.batch_id, capacity=Capacity(per_worker=4, workers=2), now=now)
    assert eta is not None and eta.takes_left == 8
    assert eta.basis.endswith("s/image on replicate, 8 at a time")  # 4 per worker x 2 workers, no one else busy
    # Half the workers, half the share: the same takes end later.
    slower = batch_eta(catalog, waiting.batch_id, capacity=Capacity(per_worker=4, workers=1), now=now)
    assert slower is not None and slower.basis.endswith("4 at a time")
    assert slower.finish_at > eta.finish_at


def test_an_ended_batch_has_no_eta(tmp_path: Path) -> None:
    batch = record_steady_batch(shots=2, variants=1)
    catalog = catalog_at(tmp_path, batch, 0.9)
    with catalog.session() as s:
        row = s.get(Batch, batch.batch_id)
        assert row is not None
        row.state = "published"
        s.add(row)
    assert batch_eta(catalog, batch.batch_id, now=batch.finished_at) is None
