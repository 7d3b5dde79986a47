"""A batch through fake vendor servers: the first provider is down, the second rate-limits once,
and the batch completes through failover with every call recorded and no key anywhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from studio.views.status import batch_summary
from tests.backends import catalog_dump
from tests.providers.fakes import FakeGemini, FakeMistral
from tests.support.projects import write_project
from tests.support.workers import running_workers

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
def fake_vendors() -> Iterator[tuple[FakeMistral, FakeGemini]]:
    with FakeMistral() as mistral, FakeGemini() as gemini:
        yield mistral, gemini


@pytest.fixture
def vendor_settings(
    temporal_address: str, tmp_path: Path, backend: dict[str, str], fake_vendors: tuple[FakeMistral, FakeGemini]
):
    """Settings with both fake vendors' keys and addresses (plus any field a test adds)."""
    mistral, gemini = fake_vendors

    def _settings(**extra: object) -> Settings:
        return Settings(
            home=tmp_path / "home",
            temporal_address=temporal_address,
            task_queue=f"v-{uuid.uuid4().hex[:8]}",
            MISTRAL_API_KEY=MISTRAL_KEY,
            MISTRAL_BASE_URL=mistral.base_url,
            GEMINI_API_KEY=GEMINI_KEY,
            GEMINI_BASE_URL=gemini.base_url,
            **backend,
            **extra,
            _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        )

    return _settings


@pytest.fixture
async def vendor_stack(
    vendor_settings, fake_vendors: tuple[FakeMistral, FakeGemini]
) -> AsyncIterator[tuple[Settings, FakeMistral, FakeGemini]]:
    settings = vendor_settings()
    async with running_workers(await connect(settings), settings):
        yield settings, *fake_vendors


async def test_down_then_rate_limited_then_rendered(vendor_stack, tmp_path: Path) -> None:
    settings, mistral, gemini = vendor_stack
    mistral.script(["500"] * 10, op="render")
    mistral.script(["500"] * 10, op="review")
    gemini.script(["429:1", "ok"], op="render")
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
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
        ("review", "mistral", "failed", "Unavailable"),
        ("review", "mistral", "failed", "Unavailable"),
        ("review", "mistral", "failed", "Unavailable"),
        ("review", "gemini", "succeeded", None),
    ]
    # Every paid call is priced: the failures cost nothing, the take carries what succeeded.
    costs = {(a.stage, a.provider, a.status): a.cost_usd for a in catalog.attempts(batch_id=batch.id)}
    assert costs[("render", "mistral", "failed")] == 0.0
    assert take.cost_usd == pytest.approx(
        costs[("render", "gemini", "succeeded")] + costs[("review", "gemini", "succeeded")]
    )
    assert take.cost_usd > 0 and take.review_model and "gemini" in take.review_model
    assert mistral.count() >= 3 and gemini.last("generate").headers["x-goog-api-key"] == GEMINI_KEY
    # Pixtral's review was down too: Gemini's vision review stood in.
    reviews = [r for r in gemini.requests if (r.json or {}).get("generationConfig", {}).get("responseMimeType")]
    assert len(reviews) == 1 and take.review_notes is not None
    assert take.params["delivered_size"] == [64, 48]

    # Keys never reach workflow histories, the catalog or the logs.
    histories = [await client.get_workflow_handle(wf).fetch_history() for wf in (batch.id, f"{batch.id}/one")]
    text = "".join(h.to_json() for h in histories)
    db = catalog_dump(settings, catalog)
    dumped = json.dumps([a.model_dump(mode="json") for a in catalog.attempts(batch_id=batch.id)])
    for key in (MISTRAL_KEY, GEMINI_KEY):
        assert key not in text and key.encode() not in db and key not in dumped


CIRCUIT_PROJECT = """
[project]
name = "Circuit"
seed = 4
chain = ["mistral", "local"]
[defaults]
size = "64x64"
upscale = 1
variants = 4
[[shots]]
id = "one"
prompt = "a harbour at dawn"
"""


async def run_to_end(settings: Settings, project: str, tmp_path: Path) -> tuple[Catalog, str]:
    catalog = Catalog.open(settings.catalog_url)
    batch, _ = prepare_batch(settings, catalog, open_asset_store(settings), write_project(tmp_path / "p", project))
    async with running_workers(await connect(settings), settings):
        client = await connect(settings)
        await start_batch(client, settings, batch.id)
        assert await wait_batch(client, batch.id) == {"published": 1}
    return catalog, batch.id


async def test_a_failing_provider_is_skipped_once_its_circuit_opens(
    vendor_settings, fake_vendors: tuple[FakeMistral, FakeGemini], tmp_path: Path
) -> None:
    mistral, _ = fake_vendors
    mistral.script(["500"] * 50, op="render")
    catalog, batch_id = await run_to_end(
        vendor_settings(circuit_failures=3, circuit_cooldown=600), CIRCUIT_PROJECT, tmp_path
    )

    # Without the breaker each of the 4 takes would have asked Mistral 3 times (12 calls).
    renders = [a for a in catalog.attempts(batch_id=batch_id) if a.stage == "render" and a.provider == "mistral"]
    assert 3 <= len(renders) < 12 and {a.status for a in renders} == {"failed"}
    assert {t.provider for t in catalog.batch_takes(batch_id)} == {"local"}
    summary = batch_summary(catalog, batch_id, circuit_failures=3, circuit_cooldown=600)
    assert summary.providers["mistral"].is_open and summary.providers["mistral"].until


async def test_a_refused_key_is_flagged_loudly_in_status(
    vendor_settings, fake_vendors: tuple[FakeMistral, FakeGemini], tmp_path: Path
) -> None:
    mistral, _ = fake_vendors
    mistral.script(["401"] * 50, op="render")
    project = CIRCUIT_PROJECT.replace("variants = 4", "variants = 1")
    catalog, batch_id = await run_to_end(vendor_settings(), project, tmp_path)

    (alert,) = batch_summary(catalog, batch_id).alerts
    assert alert.provider == "mistral" and alert.error_class == "AuthFailed"
    assert "MISTRAL_API_KEY" in alert.message and alert.calls == 1  # refused once: never asked again
    assert MISTRAL_KEY not in json.dumps(alert.to_json())
