"""An activity run again after a crash finds its earlier result: no second call, row or file."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import ActivityEnvironment

from pipelines.activities.provider_registry import ProviderSet
from pipelines.activities.stages import StudioActivities
from pipelines.messages import PublishInput, StageInput
from studio.batches.launch import prepare_batch
from studio.catalog.models import ProviderAttempt
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.backends import stored_keys
from tests.support.projects import write_project

PROJECT = '[project]\nname = "Idem"\nseed = 5\n[defaults]\nsize = "64x64"\nupscale = 2\n[[shots]]\nid = "a"\nprompt = "a boat"\n'


async def test_every_stage_twice_costs_once(
    settings: Settings, catalog: Catalog, assets: AssetStore, providers: ProviderSet, tmp_path: Path
) -> None:
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    acts = StudioActivities(catalog, assets, providers)
    env = ActivityEnvironment()
    for _ in range(2):
        plan = await env.run(acts.storyboard, batch.id)
    assert plan.shot_ids == ["a"] and len(catalog.batch_takes(batch.id)) == 1
    take_id = f"{batch.id}/a/1"

    first = await env.run(acts.render, StageInput(take_id, "local"))
    key = catalog.take(take_id).asset_key
    again = await env.run(acts.render, StageInput(take_id, "local"))
    assert first.ok and again.ok and catalog.take(take_id).asset_key == key
    assert len(catalog.attempts(take_id=take_id)) == 1, "the second run called the provider again"

    for _ in range(2):
        await env.run(acts.upscale, StageInput(take_id, "local", upscale=2))
        await env.run(acts.review, StageInput(take_id, "local"))
        await env.run(acts.publish, PublishInput(f"{batch.id}/a", take_id))
    take = catalog.take(take_id)
    assert take.final_key != take.asset_key and take.review_passed
    assert len(catalog.publications(batch.id)) == 1
    files = sorted(p.name for p in Path(batch.output_dir).iterdir())
    assert files == ["a.png"]
    stored = [k for k in stored_keys(assets) if k.endswith(".png")]
    assert len(stored) == 2  # the render and its upscale, once each


async def test_a_crashed_call_is_marked_lost_and_made_again(
    settings: Settings, catalog: Catalog, assets: AssetStore, providers: ProviderSet, tmp_path: Path
) -> None:
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    acts = StudioActivities(catalog, assets, providers)
    await ActivityEnvironment().run(acts.storyboard, batch.id)
    take_id = f"{batch.id}/a/1"
    # What a worker killed mid-call leaves behind: a call begun and never finished.
    with catalog.session() as s:
        s.add(ProviderAttempt(take_id=take_id, batch_id=batch.id, stage="render", provider="local", job_id="job-1"))
    await ActivityEnvironment().run(acts.render, StageInput(take_id, "local"))
    calls = catalog.attempts(take_id=take_id)
    assert [a.status for a in calls] == ["lost", "succeeded"]
    assert calls[1].job_id == "job-1", "the vendor job of the lost call must be resumed, not paid for again"
