"""A batch rendered and upscaled on the creator's own AUTOMATIC1111 / Forge server (a fake speaking its API).

The render's recipe comes from A1111's ``info`` (the seed it used, the checkpoint and its hash),
the upscale goes through its ``extra-single-image`` endpoint, and the password of its basic auth
appears nowhere the studio writes.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.backends import catalog_dump
from tests.providers.fake_a1111 import FakeA1111
from tests.support.projects import write_project
from tests.support.workers import running_workers

PASSWORD = "forge-pass-93c1"
PROJECT = """
[project]
name = "Forge film"
seed = 11
chain = ["a1111"]
[providers.a1111]
steps = 12
cfg = 5.5
sampler = "Euler a"
checkpoint = "dreamshaper_8"
[defaults]
size = "64x64"
upscale = 2
[[shots]]
id = "one"
prompt = "a lantern on a pier"
[[shots]]
id = "two"
prompt = "a lantern in the rain"
"""


async def test_a_batch_renders_and_upscales_on_a1111_with_its_recipe(
    temporal_address: str, tmp_path: Path, backend: dict[str, str]
) -> None:
    with FakeA1111(auth=("studio", PASSWORD)) as fake:
        settings = Settings(
            home=tmp_path / "home",
            temporal_address=temporal_address,
            task_queue=f"a-{uuid.uuid4().hex[:8]}",
            A1111_URLS=fake.base_url,
            A1111_AUTH=f"studio:{PASSWORD}",
            upscale_chain=["a1111", "local"],
            **backend,
            _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option, not a field
        )
        catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
        batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
        client = await connect(settings)
        async with running_workers(client, settings):
            await start_batch(client, settings, batch.id)
            assert await wait_batch(client, batch.id) == {"published": 2}
        assert fake.max_concurrent == 1 and fake.count("txt2img") == 2 and fake.count("extras") == 2

    for take in catalog.batch_takes(batch.id):
        assert take.provider == "a1111" and take.seed_used == take.seed
        assert "dreamshaper_8" in (take.model or "")
        assert take.params["steps"] == 12 and take.params["cfg"] == 5.5 and take.params["node"] == fake.base_url
        assert take.final_key and take.final_key != take.asset_key
    upscales = [a for a in catalog.attempts(batch_id=batch.id) if a.stage == "upscale"]
    assert {(a.provider, a.status) for a in upscales} == {("a1111", "succeeded")}
    assert PASSWORD.encode() not in catalog_dump(settings, catalog)
