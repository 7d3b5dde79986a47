"""The dashboard's Queue page and the ETA on the Batches and Batch pages, through AppTest on a real
catalog (Temporal not running: the page says it cannot list the workers, and shows the rest)."""

from __future__ import annotations

from datetime import timedelta

from studio.catalog.store import Catalog
from studio.settings import Settings
from tests.studio.eta_rows import LAUNCHED, moment, record_steady_batch, write_rows_at
from tests.ui.app_harness import new_app, run, texts


def _two_batches(catalog: Catalog) -> tuple[str, str]:
    normal = record_steady_batch("normal-aaaaaa", shots=10, variants=2, at_once=4)
    write_rows_at(catalog, normal, moment(normal, 0.5), client="acme")
    rush = record_steady_batch("rush-bbbbbb", shots=2, variants=1)
    write_rows_at(catalog, rush, LAUNCHED, priority="rush", client="globex", created_at=LAUNCHED + timedelta(minutes=5))
    return normal.batch_id, rush.batch_id


async def test_queue_page_lists_batches_in_dispatch_order(app_env: Settings, catalog: Catalog) -> None:
    normal, rush = _two_batches(catalog)
    at = await run(new_app("app_pages/queue.py"))
    shown = texts(at)
    assert "Queue" in shown and shown.index(rush) < shown.index(normal)  # rush first though launched later
    assert "client **globex**" in shown and ":red-badge[rush]" in shown and ":green-badge[running]" in shown
    assert "takes left at" in shown and "on replicate" in shown  # the running batch's ETA basis
    bars = [p.proto.text for p in at.get("progress")]
    assert bars[0] == "rendered 0/2" and bars[1].startswith("rendered ") and bars[1].endswith("/20")
    assert "Cannot list the workers" in shown


async def test_queue_page_when_nothing_is_queued(app_env: Settings) -> None:
    at = await run(new_app("app_pages/queue.py"))
    assert "The queue is empty: every batch has ended." in texts(at)


async def test_batch_pages_show_the_eta(app_env: Settings, catalog: Catalog) -> None:
    normal, _ = _two_batches(catalog)
    at = await run(new_app("app_pages/batches.py"))
    assert "ETA " in texts(at)
    at = await run(new_app("app_pages/batch.py", batch=normal))
    assert "takes left at" in texts(at) and "ETA " in texts(at)
