"""Two worker processes write one batch into one Postgres catalog at once: no row lost or doubled."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import start_batch, wait_batch
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.backends import TEST_DATABASE_URL, stored_keys
from tests.pipelines.processes import kill_hard, spawn_worker, wait_polling
from tests.support.projects import write_project

pytestmark = pytest.mark.skipif(
    TEST_DATABASE_URL is None,
    reason="Postgres pass only (STUDIO_TEST_DATABASE_URL): SQLite lets one writer in at a time by design",
)

SHOTS, VARIANTS = 24, 2


def project() -> str:
    head = (
        f'[project]\nname = "Two writers"\nseed = 21\n[defaults]\nsize = "64x64"\nvariants = {VARIANTS}\nupscale = 2\n'
    )
    return head + "".join(f'[[shots]]\nid = "s{i:03}"\nprompt = "harbour scene {i}"\n' for i in range(SHOTS))


async def worker_identities(client: Client, batch_id: str, shot_ids: list[str]) -> set[str]:
    """The workers that ran the shots' workflow tasks (the local stages run inside those)."""
    seen: set[str] = set()
    for shot_id in shot_ids:
        history = await client.get_workflow_handle(f"{batch_id}/{shot_id}").fetch_history()
        seen.update(
            e.workflow_task_completed_event_attributes.identity
            for e in history.events
            if e.HasField("workflow_task_completed_event_attributes")
        )
    return seen


async def test_two_workers_write_one_batch_without_losing_or_doubling_rows(
    settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    assert catalog.engine.dialect.name == "postgresql"
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project()))
    # Some latency per render, so the two workers' transactions overlap rather than take turns.
    env = {"STUDIO_LOCAL_LATENCY": "0.1"}
    workers = [spawn_worker(settings, tmp_path / f"w{n}.log", **env) for n in (1, 2)]
    try:
        await wait_polling(client, settings.task_queue, workers)  # else the first one up takes every shot
        await start_batch(client, settings, batch.id)
        assert await wait_batch(client, batch.id) == {"published": SHOTS}
    finally:
        for proc in workers:
            kill_hard(proc)

    shot_ids = catalog.shot_ids(batch.id)
    identities = await worker_identities(client, batch.id, shot_ids)
    assert {i.split("@", 1)[0] for i in identities} == {str(p.pid) for p in workers}, "both workers must have written"

    assert len(shot_ids) == SHOTS and len(set(shot_ids)) == SHOTS
    takes = catalog.batch_takes(batch.id)
    assert len(takes) == SHOTS * VARIANTS and len({t.id for t in takes}) == len(takes)
    assert all(t.asset_key and t.final_key and t.review_score is not None for t in takes), "a take lost its result"
    calls = catalog.attempts(batch_id=batch.id)
    renders = Counter(a.take_id for a in calls if a.stage == "render" and a.status == "succeeded")
    assert renders == Counter({t.id: 1 for t in takes}), "every take has exactly one succeeded render call"
    assert not [a for a in calls if a.status in ("started", "lost")]
    pubs = catalog.publications(batch.id)
    assert len(pubs) == SHOTS and len({p.shot_key for p in pubs}) == SHOTS
    assert {f"{shot_id}.png" for shot_id in shot_ids} <= {p.name for p in Path(batch.output_dir).iterdir()}
    stored = stored_keys(assets)
    assert {t.asset_key for t in takes} | {t.final_key for t in takes} <= stored
    final = catalog.batch(batch.id)
    assert (final.state, final.total_shots, final.total_takes) == ("published", SHOTS, SHOTS * VARIANTS)
