"""A shot whose child workflow cannot start ends failed, and its batch still ends.

The start fails for real, inside Temporal's own workflow code: the batch hands its memo on to
each shot, and a memo another tool wrote in an encoding the studio's converter does not know
cannot be read back. Before the fix the start task died unobserved, the shot stayed active and
the batch waited for it for ever.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError

from pipelines.messages import BatchInput
from pipelines.workflows.batch import WORKFLOW_TASK_TIMEOUT, BatchWorkflow
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Unstartable"
seed = 5
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "a"
prompt = "a harbour"
[[shots]]
id = "b"
prompt = "a lighthouse"
"""
FOREIGN = Payload(metadata={"encoding": b"binary/another-tool"}, data=b"\x00\x01")


async def test_a_shot_that_cannot_start_fails_and_the_batch_ends(
    worker: None, client: Client, settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    handle = await client.start_workflow(
        BatchWorkflow.run,
        BatchInput(batch.id, task_queue=settings.task_queue),
        id=batch.id,
        task_queue=settings.task_queue,
        task_timeout=WORKFLOW_TASK_TIMEOUT,
        memo={"labelled_by": FOREIGN},
    )
    try:
        # Bounded only so that a regression fails instead of hanging the suite.
        outcomes = await asyncio.wait_for(handle.result(), timeout=120)
    except (TimeoutError, WorkflowFailureError) as err:
        raise AssertionError(f"the batch did not end with its shots failed: {err!r}") from err

    assert outcomes == {"failed": 2}
    shots = {s.shot_id: s for s in catalog.shots(batch.id)}
    assert {sid: s.stage for sid, s in shots.items()} == {"a": "failed", "b": "failed"}
    assert all((s.error or "").startswith("its workflow could not start:") for s in shots.values())
    assert catalog.batch(batch.id).state == "failed"
    # No shot workflow ran: the start itself failed.
    assert catalog.attempts(batch_id=batch.id) == []
