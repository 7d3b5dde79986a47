"""`studio queue` and the ETA in `studio status`, read as a user reads them (no Temporal running:
the queue's batches come from the catalog, and the workers part says it cannot ask)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.cli import main
from studio.settings import Settings
from studio.views.eta import NOT_YET
from studio.views.queue import render_queue
from tests.studio.eta_rows import LAUNCHED, moment, record_steady_batch, write_rows_at

Capture = pytest.CaptureFixture[str]
NORMAL, RUSH, LOW, DONE = "normal-aaaaaa", "rush-bbbbbb", "low-cccccc", "done-dddddd"


@pytest.fixture
def queue(app_env: Settings, catalog: Catalog) -> Catalog:
    """A normal batch half rendered, a rush and a low batch launched after it, and one that ended."""
    normal = record_steady_batch(NORMAL, shots=10, variants=2, at_once=4)
    write_rows_at(catalog, normal, moment(normal, 0.5), client="acme")
    for batch_id, priority, minutes in ((LOW, "low", 1), (RUSH, "rush", 2), (DONE, "rush", 3)):
        later = record_steady_batch(batch_id, shots=2, variants=1)
        write_rows_at(
            catalog,
            later,
            LAUNCHED,
            priority=priority,
            client="globex",
            created_at=LAUNCHED + timedelta(minutes=minutes),
        )
    with catalog.session() as s:
        ended = s.get(Batch, DONE)
        assert ended is not None
        ended.state = "published"
        s.add(ended)
    return catalog


def test_the_queue_is_in_dispatch_order_with_progress_and_eta(queue: Catalog, capsys: Capture) -> None:
    capsys.readouterr()
    assert main(["queue", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["batches"]
    # Rush before normal before low, whatever the launch order; an ended batch is not queued.
    assert [r["batch"] for r in rows] == [RUSH, NORMAL, LOW]
    rush, normal, low = rows
    assert (rush["priority"], rush["client"], rush["place"], rush["rendered"], rush["takes"]) == (
        "rush",
        "globex",
        "waiting",
        0,
        2,
    )
    assert (normal["client"], normal["place"]) == ("acme", "running")
    assert 0 < normal["rendered"] < normal["takes"] == 20
    # Measured by the normal batch's calls: its own ETA and the waiting batches' (same provider).
    assert normal["eta"]["takes_left"] == 20 - normal["rendered"] and "on replicate" in normal["eta"]["basis"]
    assert low["eta"] is not None and low["eta"]["takes_left"] == 2
    assert data["workers"] is None and "Temporal" in data["workers_error"]  # nothing listens: said, not hidden


def test_the_queue_in_words(queue: Catalog, capsys: Capture) -> None:
    capsys.readouterr()
    assert main(["queue"]) == 0
    out = capsys.readouterr().out
    assert out.index(RUSH) < out.index(NORMAL) < out.index(LOW) and DONE not in out
    assert "ETA " in out and "workers: unknown" in out


def test_an_empty_queue_says_so(app_env: Settings, capsys: Capture) -> None:
    capsys.readouterr()
    assert main(["queue"]) == 0
    assert "the queue is empty" in capsys.readouterr().out


def test_status_shows_the_eta_of_a_running_batch(queue: Catalog, capsys: Capture) -> None:
    capsys.readouterr()
    assert main(["status", NORMAL]) == 0
    out = capsys.readouterr().out
    assert "ETA " in out and "takes left at" in out and "on replicate" in out
    assert main(["status", NORMAL, "--json"]) == 0
    eta = json.loads(capsys.readouterr().out)["eta"]
    assert set(eta) == {"finish_at", "seconds_left", "takes_left", "basis"} and eta["seconds_left"] > 0
    assert main(["status", DONE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["eta"] is None  # an ended batch has no ETA


def test_a_batch_not_measured_yet_says_when_it_will_know(app_env: Settings, catalog: Catalog, capsys: Capture) -> None:
    fresh = record_steady_batch("fresh-eeeeee", shots=2, variants=1)
    write_rows_at(catalog, fresh, LAUNCHED)  # nothing rendered anywhere yet
    capsys.readouterr()
    assert main(["status", fresh.batch_id]) == 0
    assert NOT_YET in capsys.readouterr().out
    (entry,) = render_queue(catalog)
    assert entry.eta is None and entry.eta_label() == "waits for a slot"
