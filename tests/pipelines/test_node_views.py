"""What `studio status` and `studio nodes` read while a real worker renders on a (fake) ComfyUI node:
the progress the worker writes, and the node's busy slot, jobs done and speed once it is done."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from studio.views.nodes import node_rows
from studio.views.progress import take_progress_line
from studio.views.status import batch_summary
from tests.pipelines.waiting import eventually
from tests.providers.fake_comfyui import VERSION, FakeComfyUI
from tests.support.gpu_projects import gpu_project
from tests.support.workers import running_workers


@pytest.fixture
def node() -> Iterator[FakeComfyUI]:
    fake = FakeComfyUI(seconds_per_image=0.05).start()
    try:
        yield fake
    finally:
        fake.stop()


async def test_status_follows_a_held_job_and_nodes_counts_it(
    node: FakeComfyUI, temporal_address: str, tmp_path: Path, backend: dict[str, str]
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"n-{uuid.uuid4().hex[:8]}",
        COMFYUI_URLS=node.base_url,
        **backend,
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option, not a field
    )
    node.script(["hold"], op="render")  # stops after the first sampler step until released
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, _ = prepare_batch(settings, catalog, assets, gpu_project(tmp_path / "p", shots=1))
    label = node.base_url.removeprefix("http://")
    client = await connect(settings)
    async with running_workers(client, settings):
        await start_batch(client, settings, batch.id)

        # The worker writes a state change at once and further steps at most once a second, so
        # the held job's first step may not be written before the job is released.
        on_node = f"s0 #1  comfyui @ {label}  "
        wanted = ([on_node + "running"], [on_node + "step 1/4"])

        def stepping() -> bool:
            return [take_progress_line(p) for p in batch_summary(catalog, batch.id).progress] in wanted

        await eventually(stepping, timeout=90, what="the held job's first sampler step in status")
        (busy,) = await asyncio.to_thread(node_rows, catalog, settings)
        assert (busy.url, busy.reachable, busy.version, busy.busy, busy.jobs_done) == (
            node.base_url,
            True,
            VERSION,
            1,
            0,
        )
        node.release()
        assert await wait_batch(client, batch.id) == {"published": 1}

    assert batch_summary(catalog, batch.id).progress == ()
    (done,) = await asyncio.to_thread(node_rows, catalog, settings, probe=False)
    assert (done.busy, done.jobs_done, done.health) == (0, 1, "ok") and done.seconds_per_image is not None
