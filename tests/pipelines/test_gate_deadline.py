"""A gate nobody answers takes the configured path when its deadline passes, recorded as such."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import wait_batch
from studio.catalog.store import Catalog
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Deadline"
seed = 4
[defaults]
size = "64x64"
variants = 3
upscale = 1
[approval]
required = true
deadline = "2s"
on_expiry = "{on_expiry}"
[[shots]]
id = "a"
prompt = "a harbour at dawn"
"""


@pytest.mark.parametrize(("on_expiry", "outcome"), [("approve-best", "published"), ("reject", "rejected")])
async def test_deadline_takes_the_configured_path(
    worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path, on_expiry: str, outcome: str
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT.format(on_expiry=on_expiry)))
    assert await wait_batch(client, batch_id) == {outcome: 1}
    (approval,) = catalog.approvals(batch_id=batch_id)
    assert approval.who == "deadline" and "deadline passed" in approval.note
    if outcome == "published":
        takes = catalog.takes(f"{batch_id}/a")
        best = max(takes, key=lambda t: (t.review_score or 0, -t.number))
        assert approval.take_id == best.id
        assert [p.take_id for p in catalog.publications(batch_id)] == [best.id]
    else:
        assert approval.decision == "reject" and catalog.publications(batch_id) == []
