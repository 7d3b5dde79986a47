"""Batches rendered on the creator's own ComfyUI nodes (fake ones speaking ComfyUI's HTTP and websocket).

A pool of two nodes with one failing (set aside; the batch completes on the other); a worker
SIGKILLed while a job runs (the next worker waits on the same job: exactly one submission);
a node restarting mid-job and forgetting it (submitted again, once, and the recipe says so);
every node down (the take falls over along the chain).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from studio.batches.launch import prepare_batch
from studio.batches.replay import ReplayRequest, plan_replay
from studio.catalog.models import ProviderAttempt
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.backends import catalog_dump
from tests.pipelines.processes import kill_hard, spawn_worker
from tests.pipelines.waiting import eventually
from tests.providers.fake_comfyui import FakeComfyUI
from tests.support.gpu_projects import gpu_project
from tests.support.workers import running_workers

TOKEN = "comfy-proxy-token-8d21"


@pytest.fixture
def nodes() -> Iterator[tuple[FakeComfyUI, FakeComfyUI]]:
    # Behind a proxy that wants a bearer token (COMFYUI_TOKEN).
    first = FakeComfyUI(seconds_per_image=0.05, key=TOKEN).start()
    second = FakeComfyUI(seconds_per_image=0.05, key=TOKEN).start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def gpu_settings(temporal_address: str, tmp_path: Path, backend: dict[str, str]) -> Callable[..., Settings]:
    def make(urls: str, **extra: object) -> Settings:
        return Settings(
            home=tmp_path / "home",
            temporal_address=temporal_address,
            task_queue=f"g-{uuid.uuid4().hex[:8]}",
            COMFYUI_URLS=urls,
            COMFYUI_TOKEN=TOKEN,
            **backend,
            **extra,
            _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option, not a field
        )

    return make


async def published_batch(settings: Settings, project: Path, *, shots: int) -> tuple[Catalog, str]:
    """Launch ``project`` on an in-process worker and wait until every shot is published."""
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, _ = prepare_batch(settings, catalog, assets, project)
    client = await connect(settings)
    async with running_workers(client, settings):
        await start_batch(client, settings, batch.id)
        assert await wait_batch(client, batch.id) == {"published": shots}
    return catalog, batch.id


def render_calls(catalog: Catalog, batch_id: str) -> list[ProviderAttempt]:
    return [a for a in catalog.attempts(batch_id=batch_id) if a.stage == "render"]


async def test_a_failing_node_is_set_aside_and_the_batch_completes_on_the_other(
    nodes: tuple[FakeComfyUI, FakeComfyUI], gpu_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    good, bad = nodes
    bad.down("refuse")
    settings = gpu_settings(f"{good.base_url},{bad.base_url}", node_failures=2, node_cooldown=600)
    catalog, batch_id = await published_batch(settings, gpu_project(tmp_path / "p", shots=6), shots=6)

    takes = catalog.batch_takes(batch_id)
    assert {t.provider for t in takes} == {"comfyui"}
    calls = render_calls(catalog, batch_id)
    assert {a.node for a in calls if a.status == "succeeded"} == {good.base_url}
    failed = [a for a in calls if a.node == bad.base_url]
    # Set aside after two failures in a row: no take is sent there again within the cooldown.
    assert len(failed) == 2 and all(a.status == "failed" for a in failed)
    assert good.submissions() == 6
    for take in takes:
        assert take.params["workflow_sha256"] and take.params["steps"] == 4 and take.seed_used == take.seed
    assert TOKEN.encode() not in catalog_dump(settings, catalog)


async def test_a_worker_killed_mid_job_leaves_one_submission_the_next_worker_finishes(
    nodes: tuple[FakeComfyUI, FakeComfyUI], gpu_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    node, _ = nodes
    node.script(["hold"], op="render")  # stops after the first sampler step until released
    settings = gpu_settings(node.base_url)
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, _ = prepare_batch(settings, catalog, assets, gpu_project(tmp_path / "p", shots=1))
    client: Client = await connect(settings)
    first = spawn_worker(settings, tmp_path / "w1.log", COMFYUI_URLS=node.base_url, COMFYUI_TOKEN=TOKEN)
    second = None
    try:
        await start_batch(client, settings, batch.id)
        await eventually(
            lambda: node.submissions() == 1 and any(a.job_id and a.progress for a in render_calls(catalog, batch.id)),
            timeout=90,
            what="the job submitted, its id saved and its progress written",
        )
        (started,) = render_calls(catalog, batch.id)
        assert started.node == node.base_url and started.job_id and started.job_id.endswith("@" + node.base_url)
        assert started.progress and started.progress["state"] in ("queued", "running")
        kill_hard(first)
        second = spawn_worker(settings, tmp_path / "w2.log", COMFYUI_URLS=node.base_url, COMFYUI_TOKEN=TOKEN)
        await eventually(
            lambda: len(render_calls(catalog, batch.id)) == 2, timeout=90, what="the new worker taking the job over"
        )
        node.release()
        assert await wait_batch(client, batch.id) == {"published": 1}
    finally:
        kill_hard(first)
        if second is not None:
            kill_hard(second)

    assert node.submissions() == 1, "the job was submitted twice"
    calls = [(a.status, a.job_id) for a in render_calls(catalog, batch.id)]
    assert calls == [("lost", started.job_id), ("succeeded", started.job_id)]
    (take,) = catalog.batch_takes(batch.id)
    assert take.provider == "comfyui" and not take.params.get("resubmitted")


async def test_a_node_that_restarts_and_forgets_the_job_gets_it_again_once(
    nodes: tuple[FakeComfyUI, FakeComfyUI], gpu_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    node, _ = nodes
    node.script(["hold"], op="render")
    settings = gpu_settings(node.base_url)
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, _ = prepare_batch(settings, catalog, assets, gpu_project(tmp_path / "p", shots=1))
    client = await connect(settings)
    async with running_workers(client, settings):
        await start_batch(client, settings, batch.id)
        await eventually(lambda: node.submissions() == 1, timeout=60, what="the job submitted")
        node.restart()  # queue, history and the job in flight are gone
        assert await wait_batch(client, batch.id) == {"published": 1}

    (take,) = catalog.batch_takes(batch.id)
    (call,) = render_calls(catalog, batch.id)
    prompt_id = (call.job_id or "").split("@")[0]
    assert node.submissions(prompt_id) == 2 and node.submissions() == 2
    assert call.status == "succeeded" and take.params["resubmitted"] is True


async def test_every_node_down_fails_over_along_the_chain(
    nodes: tuple[FakeComfyUI, FakeComfyUI], gpu_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    first, second = nodes
    first.down("refuse")
    second.down("refuse")
    settings = gpu_settings(f"{first.base_url},{second.base_url}", node_failures=1, node_cooldown=600)
    # local closes this chain: with both GPUs off, the shots still come out (as previews).
    project = gpu_project(tmp_path / "p", shots=3, chain='["comfyui", "local"]')
    catalog, batch_id = await published_batch(settings, project, shots=3)

    assert {t.provider for t in catalog.batch_takes(batch_id)} == {"local"}
    failed = [a for a in render_calls(catalog, batch_id) if a.provider == "comfyui"]
    assert {a.node for a in failed} == {first.base_url, second.base_url}
    assert len(failed) == 2, "a node set aside was called again within its cooldown"


async def test_an_exact_replay_sends_the_same_workflow_and_values_and_gets_the_same_image(
    nodes: tuple[FakeComfyUI, FakeComfyUI], gpu_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    node, _ = nodes
    settings = gpu_settings(node.base_url)
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, _ = prepare_batch(settings, catalog, assets, gpu_project(tmp_path / "p", shots=1))
    client = await connect(settings)
    async with running_workers(client, settings):
        await start_batch(client, settings, batch.id)
        assert await wait_batch(client, batch.id) == {"published": 1}
        (published,) = catalog.publications(batch.id)
        replay = plan_replay(settings, catalog, assets, ReplayRequest(published.path))
        await start_batch(client, settings, replay.id)
        assert await wait_batch(client, replay.id) == {"published": 1}

    (original,) = catalog.batch_takes(batch.id)
    (again,) = catalog.batch_takes(replay.id)
    first, second = (json.loads(r.body)["prompt"] for r in node.received("prompt"))
    assert first == second, "the replay sent another graph or other values"
    assert again.parent_take_id == original.id and again.provider == "comfyui"
    assert again.asset_key == original.asset_key  # content-addressed: the same bytes
    assert again.params["workflow_sha256"] == original.params["workflow_sha256"]
