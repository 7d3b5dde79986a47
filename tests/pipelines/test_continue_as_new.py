"""A batch that continues as new several times, with shots waiting at a gate across runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from pipelines.client.batches import decide, start_batch, wait_batch
from pipelines.messages import Decision
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project


async def assert_continued_as_new(client: Client, workflow_id: str) -> None:
    describe = await client.get_workflow_handle(workflow_id).describe()
    first = describe.raw_description.workflow_execution_info.first_run_id
    history = await client.get_workflow_handle(workflow_id, run_id=first).fetch_history()
    last = history.events[-1].event_type
    assert last == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, "the batch never continued as new"


def project(shots: int, approval: bool = True) -> str:
    head = (
        '[project]\nname = "Long batch"\nseed = 2\n[defaults]\nsize = "64x64"\nupscale = 1\n'
        f"[approval]\nrequired = {str(approval).lower()}\n"
    )
    return head + "".join(f'[[shots]]\nid = "s{i:03}"\nprompt = "frame {i}"\n' for i in range(shots))


async def test_gated_shots_survive_continue_as_new(
    worker: None, settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    shots = 60
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(shots)))
    await start_batch(client, settings, batch.id, history_limit=150)

    def waiting() -> list[str]:
        return [s.shot_id for s in catalog.shots(batch.id) if s.stage == "awaiting_approval"]

    await eventually(lambda: len(waiting()) == shots, timeout=60, what="every shot at its gate")

    for i, shot_id in enumerate(waiting()):
        await decide(client, batch.id, shot_id, Decision("approve", 1) if i % 3 else Decision("reject"))
    try:
        outcome = await asyncio.wait_for(wait_batch(client, batch.id), 60)
    except TimeoutError:
        progress = await client.get_workflow_handle(batch.id).query("progress")
        stages = Counter(s.stage for s in catalog.shots(batch.id))
        lines = []
        async for run in client.list_workflows(f'WorkflowId="{batch.id}"'):
            h = await client.get_workflow_handle(batch.id, run_id=run.run_id).fetch_history()
            sigs = [e for e in h.events if e.HasField("workflow_execution_signaled_event_attributes")]
            done = []
            for e in sigs:
                payload = e.workflow_execution_signaled_event_attributes.input.payloads[0].data.decode()
                if '"done"' in payload:
                    done.append(payload[:40])
            lines.append(
                f"run {run.run_id[-6:]} {run.status} events={len(h.events)} done-signals={len(done)} last={h.events[-1].event_type}"
            )
        raise AssertionError(
            f"batch stuck: workflow sees {progress}, catalog {dict(stages)}; " + " | ".join(lines)
        ) from None
    assert outcome == {"published": 40, "rejected": 20}
    await assert_continued_as_new(client, batch.id)
    assert len(catalog.publications(batch.id)) == 40
    history = await client.get_workflow_handle(batch.id).fetch_history()
    assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


async def test_rendering_shots_drain_before_continue_as_new(
    worker: None, settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    shots = 80
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(shots, approval=False)))
    await start_batch(client, settings, batch.id, history_limit=100)
    assert await wait_batch(client, batch.id) == {"published": shots}
    await assert_continued_as_new(client, batch.id)
    assert len({p.shot_key for p in catalog.publications(batch.id)}) == shots
