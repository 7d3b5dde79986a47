"""A whole batch through the real dev server and a real worker, checked in the catalog and on disk."""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.client import Client

from pipelines.client.batches import wait_batch
from studio.batches.publish import CONTACT_SHEET
from studio.catalog.store import Catalog
from studio.images.metadata import read_recipe
from tests.support.projects import SAMPLES


async def test_short_film_publishes_every_shot(worker: None, launch, client: Client, catalog: Catalog) -> None:
    batch_id = await launch(SAMPLES / "short-film")
    outcomes = await wait_batch(client, batch_id)

    assert outcomes == {"published": 12}
    batch = catalog.batch(batch_id)
    assert batch.state == "published" and batch.finished_at is not None
    takes = catalog.batch_takes(batch_id)
    assert len(takes) == 24 and all(t.status in ("reviewed", "approved") for t in takes)
    assert all(t.provider == "local" and t.seed_used == t.seed for t in takes)
    out = Path(batch.output_dir)
    files = sorted(p.name for p in out.glob("*.png") if p.name != CONTACT_SHEET)
    assert len(files) == 12
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f["file"] for f in manifest["files"]} == set(files)
    assert manifest["contact_sheet"] == CONTACT_SHEET and (out / CONTACT_SHEET).is_file()
    first = manifest["files"][0]["recipe"]
    assert first["provider"] == "local" and first["seed"] is not None and first["size"] == [1344, 768]
    assert all(read_recipe((out / f["file"]).read_bytes()) == f["recipe"] for f in manifest["files"])
    calls = [a for a in catalog.attempts(batch_id=batch_id) if a.stage == "render"]
    assert len(calls) == 24 and all(a.status == "succeeded" for a in calls)
