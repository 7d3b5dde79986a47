"""`studio pause` / `studio resume` on the real dev server: no render starts while a batch is
paused — across a worker SIGKILL — gates stay answerable, and resuming finishes the batch with
nothing lost or paid twice.

"No render starts" is asserted by counting render calls in the catalog over a quiet spell many
renders long (at 0.5 s an image, 4 calls at a time, a running batch would start two dozen), not by
timing anything.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import decide, start_batch, wait_batch
from pipelines.client.pausing import pause_batch, resume_batch
from pipelines.messages import Decision
from studio.batches.launch import prepare_batch
from studio.batches.pause import PauseRefused
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import AssetStore
from studio.views.eta import batch_eta
from studio.views.queue import render_queue
from studio.views.status import batch_summary
from tests.pipelines.crash_checks import assert_complete_without_duplicates, project, rendered
from tests.pipelines.processes import kill_hard, spawn_worker, wait_polling
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project

QUIET = 3.0
"""Seconds a paused batch is watched for a render that should not start (6 renders' time)."""


def render_calls(catalog: Catalog, batch_id: str) -> int:
    return sum(1 for a in catalog.attempts(batch_id=batch_id) if a.stage == "render")


def calls_running(catalog: Catalog, batch_id: str) -> int:
    return sum(1 for a in catalog.attempts(batch_id=batch_id) if a.stage == "render" and a.status == "started")


async def test_a_paused_batch_starts_no_render_across_a_worker_kill_and_resume_finishes_it(
    settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    shots = 60
    env = dict(STUDIO_LOCAL_LATENCY="0.5", STUDIO_PROVIDER_CONCURRENCY="4")
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(shots)))
    first = spawn_worker(settings, tmp_path / "w1.log", **env)
    second = None
    try:
        await start_batch(client, settings, batch.id)
        await eventually(lambda: rendered(catalog, batch.id) >= 2, timeout=90, what="2 takes before the pause")
        said = await pause_batch(client, catalog, batch.id)
        at_pause = render_calls(catalog, batch.id)
        assert "paused" in said
        # Calls in flight finish; then nothing starts. (The 50 shots in flight have a take each
        # waiting for one of the worker's 4 slots: those waiting must not start.)
        await eventually(lambda: calls_running(catalog, batch.id) == 0, what="the calls in flight to finish")
        held = render_calls(catalog, batch.id)
        assert held - at_pause <= 4, f"{held - at_pause} renders started after the pause"
        assert rendered(catalog, batch.id) < shots, "the batch finished before the pause: nothing was tested"

        kill_hard(first)
        second = spawn_worker(settings, tmp_path / "w2.log", **env)
        await wait_polling(client, settings.task_queue, [second])
        await asyncio.sleep(QUIET)
        assert render_calls(catalog, batch.id) == held, "a render started while the batch was paused"
        summary = batch_summary(catalog, batch.id)
        assert summary.state == "paused"
        assert batch_eta(catalog, batch.id) is None  # no finish time while nothing moves
        assert [e.place for e in render_queue(catalog) if e.batch_id == batch.id] == ["paused"]
        assert "already paused" in await pause_batch(client, catalog, batch.id)

        assert "resumed" in await resume_batch(client, catalog, batch.id)
        assert await wait_batch(client, batch.id) == {"published": shots}
    finally:
        kill_hard(first)
        if second is not None:
            kill_hard(second)
    assert_complete_without_duplicates(catalog, batch.id, shots, in_flight=0)
    assert batch_summary(catalog, batch.id).state == "published"
    with pytest.raises(PauseRefused, match="has ended"):
        await pause_batch(client, catalog, batch.id)


GATED = """
[project]
name = "Paused review"
seed = 3
[defaults]
size = "64x64"
variants = 2
upscale = 1
[approval]
required = true
[[shots]]
id = "a"
prompt = "a red lighthouse at dusk"
[[shots]]
id = "b"
prompt = "a green forest at noon"
"""


async def test_gates_stay_answerable_while_paused_and_a_new_round_waits_for_resume(
    worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", GATED))
    await eventually(
        lambda: {s.stage for s in catalog.shots(batch_id)} == {"awaiting_approval"}, what="both gates to open"
    )
    await pause_batch(client, catalog, batch_id)
    assert batch_summary(catalog, batch_id).state == "paused"

    # An approval publishes (no render), and changes are accepted: the new round waits.
    await decide(client, batch_id, "a", Decision("approve", 1, who="test"))
    await decide(client, batch_id, "b", Decision("changes", None, who="test", note="warmer light"))
    await eventually(lambda: catalog.shot(f"{batch_id}/a").stage == "published", what="shot a to publish")
    await eventually(lambda: len(catalog.takes(f"{batch_id}/b")) == 4, what="round 2's takes to be planned")
    calls = render_calls(catalog, batch_id)
    await asyncio.sleep(QUIET)
    assert render_calls(catalog, batch_id) == calls, "round 2 rendered while the batch was paused"
    assert all(t.asset_key is None for t in catalog.takes(f"{batch_id}/b") if t.round == 2)

    await resume_batch(client, catalog, batch_id)
    await eventually(
        lambda: (
            catalog.shot(f"{batch_id}/b").stage == "awaiting_approval"
            and all(t.asset_key for t in catalog.takes(f"{batch_id}/b"))
        ),
        what="round 2 to render and come back to the gate",
    )
    await decide(client, batch_id, "b", Decision("approve", 3, who="test"))
    assert await wait_batch(client, batch_id) == {"published": 2}
