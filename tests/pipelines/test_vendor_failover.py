"""A batch through fake vendor servers: the first provider is down, the second rate-limits once,
and the batch completes through failover with every call recorded and no key anywhere."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client import start_batch, wait_batch
from pipelines.connection import connect
from pipelines.worker import build_workers
from studio.assets import LocalAssetStore
from studio.catalog import Catalog
from studio.launch import prepare_batch
from studio.settings import Settings
from tests.conftest import write_project
from tests.providers.fakes import FakeGemini, FakeMistral

MISTRAL_KEY = "mistral-secret-key-5f1e"
GEMINI_KEY = "gemini-secret-key-77aa"
PROJECT = """
[project]
name = "Failover"
seed = 9
chain = ["pixtral", "gemini"]
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "one"
prompt = "a lighthouse in fog"
"""


@pytest.fixture
async def vendor_stack(temporal_address: str, tmp_path: Path) -> AsyncIterator[tuple[Settings, FakeMistral, FakeGemini]]:
    with FakeMistral() as mistral, FakeGemini() as gemini:
        settings = Settings(
            home=tmp_path / "home", temporal_address=temporal_address, task_queue=f"v-{uuid.uuid4().hex[:8]}",
            MISTRAL_API_KEY=MISTRAL_KEY, MISTRAL_BASE_URL=mistral.base_url,
            GEMINI_API_KEY=GEMINI_KEY, GEMINI_BASE_URL=gemini.base_url, _env_file=None,  # type: ignore[call-arg]
        )
        client = await connect(settings)
        workers = build_workers(client, settings)
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            yield settings, mistral, gemini
        finally:
            await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_down_then_rate_limited_then_rendered(vendor_stack, tmp_path: Path) -> None:
    settings, mistral, gemini = vendor_stack
    mistral.script(["500"] * 10, op="render")
    mistral.script(["500"] * 10, op="review")
    gemini.script(["429:1", "ok"], op="render")
    catalog, assets = Catalog.open(settings.catalog_url), LocalAssetStore(settings.assets_dir)
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    client: Client = await connect(settings)
    await start_batch(client, settings, batch.id)
    assert await wait_batch(client, batch.id) == {"published": 1}

    (take,) = catalog.batch_takes(batch.id)
    assert take.provider == "gemini" and take.model and "gemini" in take.model
    assert take.seed_used == take.seed and take.review_score is not None
    calls = [(a.stage, a.provider, a.status, a.error_class) for a in catalog.attempts(batch_id=batch.id)]
    assert calls == [
        ("render", "mistral", "failed", "Unavailable"),
        ("render", "mistral", "failed", "Unavailable"),
        ("render", "mistral", "failed", "Unavailable"),
        ("render", "gemini", "failed", "RateLimited"),
        ("render", "gemini", "succeeded", None),
    ]
    assert mistral.count() >= 3 and gemini.last("generate").headers["x-goog-api-key"] == GEMINI_KEY
    # Pixtral's review was down too: Gemini's vision review stood in.
    reviews = [r for r in gemini.requests if (r.json or {}).get("generationConfig", {}).get("responseMimeType")]
    assert len(reviews) == 1 and take.review_notes is not None
    assert take.params["delivered_size"] == [64, 48]

    # Keys never reach workflow histories, the catalog or the logs.
    histories = [await client.get_workflow_handle(wf).fetch_history() for wf in (batch.id, f"{batch.id}/one")]
    text = "".join(h.to_json() for h in histories)
    db = Path(settings.catalog_url.removeprefix("sqlite:///")).read_bytes()
    dumped = json.dumps([a.model_dump(mode="json") for a in catalog.attempts(batch_id=batch.id)])
    for key in (MISTRAL_KEY, GEMINI_KEY):
        assert key not in text and key.encode() not in db and key not in dumped
