"""Two worker processes share one batch; one is SIGKILLed mid-batch and the other finishes its work.

What a cluster of studio workers must survive: a machine lost while it holds shot workflows with
renders in flight. The survivor picks them up (after the sticky queue and workflow task timeouts),
and the catalog ends with every shot published once and no take rendered or published twice.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from pipelines.client.batches import start_batch, wait_batch
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.pipelines.crash_checks import (
    assert_complete_without_duplicates,
    project,
    rendered,
)
from tests.pipelines.processes import kill_hard, pid_of, spawn_worker, wait_polling
from tests.support.projects import write_project

SHOTS = 30
# The batch starts its shots at about 9 a second; renders of 1 s through 4 slots per worker finish
# fewer than that, so shots pile up in flight on both workers and the kill catches several.
WORKER_ENV = {"STUDIO_LOCAL_LATENCY": "1.0", "STUDIO_PROVIDER_CONCURRENCY": "4"}


def task_identities(history: WorkflowHistory, kind: str = "completed") -> list[str]:
    """The worker identity (``pid@host``) on each ``completed`` (or ``started``) workflow task event."""
    field = f"workflow_task_{kind}_event_attributes"
    return [getattr(e, field).identity for e in history.events if e.HasField(field)]


async def shot_histories(client: Client, batch_id: str, shot_ids: list[str]) -> dict[str, WorkflowHistory]:
    """The histories of the shots' workflows that have started (a shot not yet started is skipped)."""

    async def one(shot_id: str) -> WorkflowHistory | None:
        handle = client.get_workflow_handle(f"{batch_id}/{shot_id}")
        try:
            return await handle.fetch_history()
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return None  # the batch has not started this shot yet

    found = await asyncio.gather(*(one(s) for s in shot_ids))
    return {s: h for s, h in zip(shot_ids, found, strict=True) if h is not None}


async def test_batch_survives_one_of_two_workers_killed(
    settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(SHOTS)))
    shot_ids = [f"s{i:03}" for i in range(SHOTS)]
    workers = [spawn_worker(settings, tmp_path / f"w{n}.log", **WORKER_ENV) for n in (1, 2)]
    try:
        # Both polling before the batch starts, so its shots are shared out between them.
        await wait_polling(client, settings.task_queue, workers)
        await start_batch(client, settings, batch.id)
        # A shot on the local provider runs in one workflow task (its stages are local
        # activities), so a completed task means a finished shot: wait until each worker has
        # finished some, while the rest are still held, half-done, by one worker or the other.
        finished_by: dict[int, int] = {}
        deadline = time.monotonic() + 30
        while len(finished_by) < 2:
            assert time.monotonic() < deadline, f"both workers never finished a shot: {finished_by}"
            await asyncio.sleep(0.1)
            finished_by.clear()
            for history in (await shot_histories(client, batch.id, shot_ids)).values():
                for pid in {pid_of(i) for i in task_identities(history)}:
                    finished_by[pid] = finished_by.get(pid, 0) + 1
        # The busier one is likelier to hold more shots in flight.
        victim = max(workers, key=lambda p: finished_by.get(p.pid, 0))
        survivor = next(p for p in workers if p is not victim)
        kill_hard(victim)
        killed_at = datetime.now(UTC).replace(tzinfo=None)  # the catalog reads times back naive UTC
        in_flight = sum(1 for a in catalog.attempts(batch_id=batch.id) if a.stage == "render" and a.status == "started")
        assert rendered(catalog, batch.id) < SHOTS, "the batch finished before the kill: nothing was tested"
        assert await asyncio.wait_for(wait_batch(client, batch.id), 30) == {"published": SHOTS}
    finally:
        for proc in workers:
            kill_hard(proc)

    assert_complete_without_duplicates(catalog, batch.id, SHOTS, in_flight)
    # A call the victim had begun stays "started" if another attempt had already rendered its take
    # (the catalog closes a dead call only when a later attempt needs the take): at most the
    # calls in flight at the kill, and none begun after it.
    open_calls = [a for a in catalog.attempts(batch_id=batch.id) if a.status == "started"]
    assert len(open_calls) <= in_flight
    assert all(a.started_at.replace(tzinfo=None) <= killed_at for a in open_calls), (
        "a call begun after the kill is open"
    )
    histories = await shot_histories(client, batch.id, shot_ids)
    assert len(histories) == SHOTS
    taken_over = []
    for shot_id, history in histories.items():
        assert history.events[-1].HasField("workflow_execution_completed_event_attributes"), shot_id
        started = [pid_of(i) for i in task_identities(history, "started")]
        completed = [pid_of(i) for i in task_identities(history)]
        assert completed[-1] in (victim.pid, survivor.pid)
        if victim.pid in started and victim.pid not in completed:
            # The victim held this shot when it died: its task timed out and the survivor ran it again.
            assert any(e.HasField("workflow_task_timed_out_event_attributes") for e in history.events), shot_id
            assert set(completed) == {survivor.pid}, shot_id
            taken_over.append(shot_id)
    assert taken_over, "the survivor took over none of the killed worker's shots"
