"""A provider-wide outage is weather: takes wait, at no cost, and finish when a provider is back.

The fakes stay down for the durations users report (Gemini answering 500 for 90 s; every vendor
rate-limiting for 2 minutes); only the pause between two tries of a dead chain is shortened
(``provider_retry_max``), as an operator may.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.pipelines.outage_checks import assert_whole
from tests.pipelines.waiting import eventually
from tests.pipelines.webhooks import webhook
from tests.providers.fakes import FakeGemini, FakeMistral
from tests.support.projects import write_project
from tests.support.workers import running_workers


def project(chain: str, shots: int) -> str:
    body = f'[project]\nname = "Weather"\nseed = 3\nchain = {chain}\n[defaults]\nsize = "64x64"\nupscale = 1\n'
    return body + "".join(f'[[shots]]\nid = "s{i:02d}"\nprompt = "a storm over pier {i}"\n' for i in range(shots))


def vendor_settings(tmp_path: Path, temporal_address: str, backend: dict[str, str], **fields: object) -> Settings:
    return Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"w-{uuid.uuid4().hex[:8]}",
        provider_retry_max=10,
        circuit_cooldown=20,
        **backend,
        **fields,
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )


async def test_the_only_provider_down_for_90_s_loses_no_shot(
    temporal_address: str, backend: dict[str, str], tmp_path: Path
) -> None:
    with FakeGemini() as gemini, webhook() as hook:
        settings = vendor_settings(
            tmp_path,
            temporal_address,
            backend,
            GEMINI_API_KEY="gemini-test-key",
            GEMINI_BASE_URL=gemini.base_url,
            notify_webhook=hook.url,
            provider_wait_notice=30,
        )
        catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
        batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project('["gemini"]', 20)))
        gemini.down_for(90, status=500)
        outage_ends = time.monotonic() + 90
        client = await connect(settings)
        async with running_workers(client, settings):
            await start_batch(client, settings, batch.id)

            # While Gemini is down the shots say so, with its error, and none is counted failed.
            def waiting() -> bool:
                stages = [s.stage for s in catalog.shots(batch.id)]
                return stages.count("waiting_for_provider") == 20

            await eventually(waiting, timeout=60, what="every shot waiting for a provider")
            errors = {s.error for s in catalog.shots(batch.id)}
            assert all(e and e.startswith("gemini") and ("500" in e or "circuit open" in e) for e in errors), errors
            assert time.monotonic() < outage_ends  # seen during the outage, not after it

            outcomes = await wait_batch(client, batch.id)
        assert_whole(catalog, batch.id, outcomes, shots=20)
        # One notice for the spell of waiting (after 30 s), not one per shot or per try.
        notices = [b for b in hook.bodies if b["event"] == "waiting_for_providers"]
        assert len(notices) == 1 and notices[0]["batch"] == batch.id and notices[0]["shots"] >= 1
        assert all(s.error in (None, "") for s in catalog.shots(batch.id))


async def test_every_provider_rate_limiting_for_2_minutes_loses_no_shot(
    temporal_address: str, backend: dict[str, str], tmp_path: Path
) -> None:
    with FakeMistral() as mistral, FakeGemini() as gemini:
        settings = vendor_settings(
            tmp_path,
            temporal_address,
            backend,
            MISTRAL_API_KEY="mistral-test-key",
            MISTRAL_BASE_URL=mistral.base_url,
            GEMINI_API_KEY="gemini-test-key",
            GEMINI_BASE_URL=gemini.base_url,
        )
        catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
        batch, _ = prepare_batch(
            settings, catalog, assets, write_project(tmp_path / "p", project('["pixtral", "gemini"]', 8))
        )
        # Retry-After beyond what a take waits on one vendor: each take fails over, then waits.
        mistral.down_for(120, status=429, retry_after="45")
        gemini.down_for(120, status=429, retry_after="45")
        client = await connect(settings)
        async with running_workers(client, settings):
            await start_batch(client, settings, batch.id)
            outcomes = await wait_batch(client, batch.id)
        assert_whole(catalog, batch.id, outcomes, shots=8)
        limited = [a for a in catalog.attempts(batch_id=batch.id) if a.error_class == "RateLimited"]
        assert {a.provider for a in limited} == {"mistral", "gemini"}
