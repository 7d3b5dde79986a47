"""A ComfyUI workflow stored with the batch: launch stores each checked graph as canonical JSON, the
storyboard stage names it in the takes' params without reading the file again, and a rerun or a
replay keeps the same graph."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from providers.comfyui.workflow import workflow_sha256
from studio.batches.launch import prepare_batch, workflow_json
from studio.batches.replay import Origin, ReplayRequest, replay_takes
from studio.batches.rerun import plan_rerun
from studio.catalog.models import Batch, Take
from studio.catalog.store import Catalog
from studio.project.loader import parse_project
from studio.project.storyboard import storyboard_rows, take_params, workflow_ref
from studio.rendering.params import provider_params
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.gpu_projects import WORKFLOW
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Night Ferry"
seed = 7
chain = ["comfyui", "a1111", "gemini"]
[providers.comfyui]
workflow = "workflows/sdxl.json"
steps = 4
[providers.a1111]
sampler = "Euler a"
[defaults]
size = "64x64"
variants = 2
[[shots]]
id = "s1"
prompt = "a ferry leaving the harbour"
[[shots]]
id = "s2"
prompt = "a ticket in a gloved hand"
workflow = "workflows/close-up.json"
chain = ["comfyui"]
[[shots]]
id = "s3"
prompt = "the island at dawn"
chain = ["gemini"]
"""
CLOSE_UP = {**WORKFLOW, "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "close", "images": ["8", 0]}}}


def film(folder: Path) -> Path:
    """The project above, its workflows written with indents and keys out of order."""
    write_project(folder, PROJECT)
    (folder / "workflows").mkdir()
    for name, graph in (("sdxl.json", WORKFLOW), ("close-up.json", CLOSE_UP)):
        shuffled = dict(reversed(list(graph.items())))
        (folder / "workflows" / name).write_text(json.dumps(shuffled, indent=4))
    return folder


def planned_takes(assets: AssetStore, batch: Batch) -> dict[str, list[Take]]:
    """What the storyboard stage plans: the project as launched, re-read without its files."""
    source = Path(batch.project_source)
    project = parse_project(
        assets.get(batch.project_key).decode(), source=str(source), base_dir=source.parent, check_files=False
    )
    _, takes = storyboard_rows(project, batch.id, batch.seed, lambda chain: list(chain or ["local"]), batch.references)
    by_shot: dict[str, list[Take]] = {}
    for take in takes:
        by_shot.setdefault(take.shot_key.rsplit("/", 1)[-1], []).append(take)
    return by_shot


def test_launch_stores_each_workflow_and_the_takes_name_it(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    folder = film(tmp_path / "film")
    batch, _ = prepare_batch(settings, catalog, assets, folder)
    sdxl, close_up = batch.references[workflow_ref("s1")], batch.references[workflow_ref("s2")]
    assert sdxl == f"{workflow_sha256(WORKFLOW)}.json" and close_up == f"{workflow_sha256(CLOSE_UP)}.json"
    assert assets.get(sdxl) == workflow_json(WORKFLOW) and json.loads(assets.get(close_up)) == CLOSE_UP

    shutil.rmtree(folder / "workflows")  # the batch renders what was checked at launch
    takes = planned_takes(assets, batch)
    assert [take.params for take in takes["s1"]] == [
        {"providers": {"comfyui": {"workflow": sdxl, "steps": 4}, "a1111": {"sampler": "Euler a"}}}
    ] * 2
    assert [take.params for take in takes["s2"]] == [{"providers": {"comfyui": {"workflow": close_up, "steps": 4}}}] * 2
    assert [take.params for take in takes["s3"]] == [{}, {}]
    assert provider_params(takes["s1"][0].params, "comfyui") == {"workflow": sdxl, "steps": 4}
    assert provider_params(takes["s1"][0].params, "a1111") == {"sampler": "Euler a"}


def test_only_providers_with_something_set_get_params() -> None:
    assert take_params(["a1111", "local"], {}, None) == {}
    assert take_params(["comfyui"], {"a1111": {"steps": 3}}, "k.json") == {
        "providers": {"comfyui": {"workflow": "k.json"}}
    }
    assert take_params(["gemini"], {"comfyui": {"steps": 3}}, "k.json") == {}


@pytest.mark.parametrize("file_kept", [False, True])
def test_a_rerun_renders_the_same_graph(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path, file_kept: bool
) -> None:
    folder = film(tmp_path / "film")
    parent, _ = prepare_batch(settings, catalog, assets, folder)
    if not file_kept:  # the project folder is gone: the rerun reads what the parent launched with
        shutil.rmtree(folder)
    rerun, from_disk = plan_rerun(settings, catalog, assets, parent.id, ["s1"])
    assert from_disk is file_kept
    assert rerun.references[workflow_ref("s1")] == parent.references[workflow_ref("s1")]
    assert planned_takes(assets, rerun)["s1"][0].params["providers"]["comfyui"]["workflow"] == (
        f"{workflow_sha256(WORKFLOW)}.json"
    )


@pytest.mark.parametrize("mode", ["exact", "remix", "vary-subtle"])
def test_a_replay_keeps_the_recorded_workflow(mode: str) -> None:
    recipe = {"workflow": "ab12.json", "workflow_sha256": "ab12", "steps": 4, "cfg": 6.5, "delivered_size": [64, 64]}
    origin = Origin(
        take_id="b/s1/1",
        batch_id="b",
        shot_id="s1",
        provider="comfyui",
        model="sd_xl_base_1.0.safetensors",
        seed=11,
        reproducible=True,
        prompt="a ferry",
        negative="",
        size=(64, 64),
        params=recipe,
        upscale=1,
        image_key="img.png",
    )
    (take,) = replay_takes(ReplayRequest("b/s1/1", mode=mode), origin, "comfyui", 5)
    assert take["params"] == {"workflow": "ab12.json", "workflow_sha256": "ab12", "steps": 4, "cfg": 6.5}
    assert provider_params(take["params"], "comfyui") == take["params"]
