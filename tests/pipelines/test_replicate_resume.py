"""A worker killed while a Replicate prediction is running; after which no second prediction is
created: the next worker polls the prediction the dead one started, and the batch publishes.
The same holds for a render (Flux) and for an upscale (real-esrgan)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import start_batch, wait_batch
from studio.batches.launch import prepare_batch
from studio.catalog.models import ProviderAttempt
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.pipelines.processes import kill_hard, spawn_worker
from tests.pipelines.waiting import eventually
from tests.providers.fakes import FakeReplicate
from tests.support.projects import write_project

TOKEN = "r8_resume-test-token-5d2c"
PROJECT = """
[project]
name = "Replicate resume"
seed = 5
chain = ["replicate"]
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "one"
prompt = "a heron at dawn"
"""


# The upscale case renders locally, then upscales on Replicate (first in the upscale chain).
UPSCALE_PROJECT = PROJECT.replace('chain = ["replicate"]', 'chain = ["local"]').replace("upscale = 1", "upscale = 2")


@pytest.mark.parametrize("stage", ["render", "upscale"])
async def test_killed_worker_leaves_one_prediction_that_the_next_worker_finishes(
    stage: str, settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    def render_calls(catalog: Catalog, batch_id: str) -> list[ProviderAttempt]:
        return [a for a in catalog.attempts(batch_id=batch_id) if a.stage == stage and a.provider == "replicate"]

    with FakeReplicate() as fake:
        fake.script(["hold"], op=stage)  # "processing" until released: the kill lands mid-job
        env = {"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": fake.base_url}
        project = PROJECT if stage == "render" else UPSCALE_PROJECT
        batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project))
        first = spawn_worker(settings, tmp_path / "w1.log", **env)
        second = None
        try:
            await start_batch(client, settings, batch.id)
            await eventually(
                lambda: fake.count("create") == 1 and any(a.job_id for a in render_calls(catalog, batch.id)),
                timeout=90,
                what="one prediction created and its id saved on the call",
            )
            (started,) = render_calls(catalog, batch.id)
            job_id = started.job_id
            assert started.status == "started" and job_id in fake.predictions
            await eventually(lambda: fake.predictions[job_id].polls >= 1, timeout=30, what="the first worker polling")
            kill_hard(first)
            assert fake.predictions[job_id].held, "the prediction finished before the kill: nothing was tested"

            second = spawn_worker(settings, tmp_path / "w2.log", **env)
            # The retried attempt writes its own call row, carrying the saved job id, before polling.
            await eventually(
                lambda: len(render_calls(catalog, batch.id)) == 2,
                timeout=90,
                what="the new worker taking the render over",
            )
            polls_at_takeover = len(fake.polled_ids())
            await eventually(
                lambda: len(fake.polled_ids()) > polls_at_takeover, timeout=30, what="the new worker polling"
            )
            fake.release(job_id)
            assert await wait_batch(client, batch.id) == {"published": 1}
        finally:
            kill_hard(first)
            if second is not None:
                kill_hard(second)

        assert fake.count("create") == 1, "a second prediction was created (and paid for)"
        assert fake.polled_ids()[polls_at_takeover:], "the new worker never polled"
        assert set(fake.polled_ids()) == {job_id}
        assert not fake.crashes

    calls = [(a.provider, a.status, a.job_id) for a in render_calls(catalog, batch.id)]
    assert calls == [("replicate", "lost", job_id), ("replicate", "succeeded", job_id)]
    (take,) = catalog.batch_takes(batch.id)
    if stage == "render":
        assert take.provider == "replicate" and take.asset_key
        assert take.seed_used == take.seed  # the recipe came back from the resumed prediction's input
    else:
        assert take.provider == "local" and take.final_key and take.final_key != take.asset_key
    assert len(catalog.publications(batch.id)) == 1
