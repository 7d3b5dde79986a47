"""Shots an older studio lost in an outage are found again: `studio repair` and `rerun --only failed`."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.batches.launch import prepare_batch
from studio.batches.rerun import plan_rerun
from studio.catalog.store import Catalog
from studio.cli.repair import repair
from studio.project.storyboard import storyboard_rows
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project

PROJECT = '[project]\nname = "Lost"\nseed = 8\n[defaults]\nsize = "64x64"\nupscale = 1\n' + "".join(
    f'[[shots]]\nid = "s{i}"\nprompt = "a lantern {i}"\n' for i in range(4)
)


def lost_batch(settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path, state: str) -> str:
    """A batch as the old bug left it: ``state``, two shots published, two never given an outcome."""
    batch, project = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    shots, takes = storyboard_rows(project, batch.id, batch.seed, lambda req: ["local"], {})
    catalog.add_shots(batch.id, shots, takes)
    for shot in shots[:2]:
        catalog.update_shot(shot.key, stage="published")
    catalog.update_shot(shots[2].key, stage="rendering")
    catalog.set_batch_state(batch.id, state)
    return batch.id


@pytest.mark.temporal  # repair asks the server whether the batch's workflow is still there
async def test_repair_finds_the_shots_of_a_batch_whose_workflow_is_gone(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    # The catalog says running, but Temporal has no such workflow (it failed long ago, or the
    # server's history was lost): its unfinished shots can only be lost.
    batch_id = lost_batch(settings, catalog, assets, tmp_path, "running")
    found = await repair(settings, catalog, [batch_id])
    assert found == {batch_id: ["s2", "s3"]}
    stages = {s.shot_id: (s.stage, s.error) for s in catalog.shots(batch_id)}
    assert stages["s2"][0] == stages["s3"][0] == "failed" and "rendering" in (stages["s2"][1] or "")
    assert catalog.batch(batch_id).state == "failed"  # nothing was published
    assert await repair(settings, catalog, [batch_id]) == {}  # once is enough


def test_rerun_only_failed_picks_up_shots_an_ended_batch_lost(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = lost_batch(settings, catalog, assets, tmp_path, "published")
    rerun, _ = plan_rerun(settings, catalog, assets, batch_id, ["failed"])
    assert rerun.rerun_only == ["s2", "s3"]
    assert {s.shot_id: s.stage for s in catalog.shots(batch_id)} == {
        "s0": "published",
        "s1": "published",
        "s2": "failed",
        "s3": "failed",
    }
