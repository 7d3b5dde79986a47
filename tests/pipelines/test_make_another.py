"""Make another like that one: replay a take or a published file, and rerun part of a batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from temporalio.client import Client

from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.client.batches import start_batch, wait_batch
from providers.local.adapters import LocalRenderer
from studio.batches.replay import ReplayError, ReplayRequest, plan_replay
from studio.batches.rerun import RerunError, plan_rerun
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Another"
seed = 21
[defaults]
size = "96x64"
upscale = 2
[[shots]]
id = "harbour"
prompt = "a harbour at dawn, fishing boats"
negative = "people"
"""

RERUN_PROJECT = """
[project]
name = "Rerun"
seed = 5
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "fine"
prompt = "a sunny meadow"
[[shots]]
id = "blank"
prompt = "BLANK frame"
"""


@pytest.fixture
def providers(settings: Settings) -> ProviderSet:
    found = build_providers(settings)
    # The local renderer's test knob: this prompt renders a flat frame that review rejects.
    found.renderers["local"] = LocalRenderer(fail_prompts={"BLANK": "blank"})
    return found


async def run(client: Client, settings: Settings, batch_id: str) -> dict[str, int]:
    await start_batch(client, settings, batch_id)
    return await wait_batch(client, batch_id)


async def published_batch(launch, client: Client, catalog: Catalog, tmp_path: Path) -> tuple[str, Path]:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    assert await wait_batch(client, batch_id) == {"published": 1}
    (pub,) = catalog.publications(batch_id)
    return batch_id, Path(pub.path)


async def test_exact_replay_of_a_published_file_gives_the_same_image_with_a_lineage_link(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, settings: Settings, tmp_path: Path
) -> None:
    batch_id, published = await published_batch(launch, client, catalog, tmp_path)
    (original,) = catalog.batch_takes(batch_id)

    replay = plan_replay(settings, catalog, assets, ReplayRequest(str(published)))
    assert await run(client, settings, replay.id) == {"published": 1}

    (again,) = catalog.batch_takes(replay.id)
    assert again.parent_take_id == original.id and replay.parent_batch_id == batch_id and replay.kind == "replay"
    assert (again.provider, again.seed_used, again.prompt, again.negative) == (
        original.provider,
        original.seed_used,
        original.prompt,
        original.negative,
    )
    # Content-addressed: the same key is the same bytes, for the render and the upscaled final.
    assert again.asset_key == original.asset_key and again.final_key == original.final_key
    (pub,) = catalog.publications(replay.id)
    assert Image.open(pub.path).tobytes() == Image.open(published).tobytes()


async def test_remix_keeps_the_recipe_and_draws_new_seeds(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, settings: Settings, tmp_path: Path
) -> None:
    batch_id, _ = await published_batch(launch, client, catalog, tmp_path)
    (original,) = catalog.batch_takes(batch_id)

    remix = plan_replay(settings, catalog, assets, ReplayRequest(original.id, "remix", count=3, append="golden hour"))
    assert await run(client, settings, remix.id) == {"published": 3}

    takes = catalog.batch_takes(remix.id)
    assert {t.prompt for t in takes} == {f"{original.prompt}, golden hour"}
    seeds = {t.seed_used for t in takes}
    assert len(seeds) == 3 and original.seed_used not in seeds
    assert {t.parent_take_id for t in takes} == {original.id}
    assert len({t.asset_key for t in takes}) == 3


@pytest.mark.parametrize(("mode", "strength"), [("vary-subtle", 0.5), ("vary-strong", 0.85)])
async def test_vary_renders_image_to_image_from_the_parent(
    mode: str,
    strength: float,
    worker: None,
    launch,
    client: Client,
    catalog: Catalog,
    assets: AssetStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    batch_id, _ = await published_batch(launch, client, catalog, tmp_path)
    (original,) = catalog.batch_takes(batch_id)

    vary = plan_replay(settings, catalog, assets, ReplayRequest(original.id, mode))
    assert await run(client, settings, vary.id) == {"published": 1}
    (child,) = catalog.batch_takes(vary.id)
    assert child.init_key == original.asset_key and child.strength == strength
    assert child.params["strength"] == strength  # what the renderer was really sent
    assert child.asset_key != original.asset_key


async def test_refused_replays_say_why_and_write_nothing(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, settings: Settings, tmp_path: Path
) -> None:
    batch_id, _ = await published_batch(launch, client, catalog, tmp_path)
    (original,) = catalog.batch_takes(batch_id)
    before = len(catalog.batches())
    with pytest.raises(ReplayError, match="mistral cannot start from an image"):
        plan_replay(settings, catalog, assets, ReplayRequest(original.id, "vary-strong", provider="mistral"))
    with pytest.raises(ReplayError, match="makes one image"):
        plan_replay(settings, catalog, assets, ReplayRequest(original.id, "exact", count=2))
    with pytest.raises(ReplayError, match="comfyui renders a workflow of your own"):
        plan_replay(settings, catalog, assets, ReplayRequest(original.id, "remix", provider="comfyui"))
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    with pytest.raises(StudioError, match="carries no studio recipe"):
        plan_replay(settings, catalog, assets, ReplayRequest(str(plain)))
    with pytest.raises(ReplayError, match="neither a take id"):
        plan_replay(settings, catalog, assets, ReplayRequest("no-such-thing"))
    assert len(catalog.batches()) == before


async def test_rerun_renders_only_the_named_shots_and_keeps_the_rest(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, settings: Settings, tmp_path: Path
) -> None:
    folder = write_project(tmp_path / "p", RERUN_PROJECT)
    batch_id = await launch(folder)
    assert await wait_batch(client, batch_id) == {"published": 1, "rejected": 1}
    with pytest.raises(RerunError, match="no shot 'nope'"):
        plan_rerun(settings, catalog, assets, batch_id, ["nope"])

    # The creator fixes the rejected shot's prompt, then reruns only what was rejected.
    (folder / "project.toml").write_text(RERUN_PROJECT.replace("BLANK frame", "a red barn"))
    rerun, from_disk = plan_rerun(settings, catalog, assets, batch_id, ["rejected"])
    assert from_disk and rerun.rerun_only == ["blank"] and rerun.parent_batch_id == batch_id
    assert await run(client, settings, rerun.id) == {"published": 1}

    calls = catalog.attempts(batch_id=rerun.id)
    assert {a.take_id.split("/")[1] for a in calls} == {"blank"}  # the kept shot was not rendered again
    kept = catalog.takes(f"{rerun.id}/fine")[0]
    (original_fine,) = catalog.takes(f"{batch_id}/fine")
    assert kept.parent_take_id == original_fine.id and kept.asset_key == original_fine.asset_key
    (redone,) = catalog.takes(f"{rerun.id}/blank")
    assert redone.prompt == "a red barn" and redone.status == "approved"
    manifest = json.loads((Path(rerun.output_dir) / "manifest.json").read_text())
    assert [f["shot"] for f in manifest["files"]] == ["fine", "blank"]
    assert {s.stage for s in catalog.shots(rerun.id)} == {"published"}
