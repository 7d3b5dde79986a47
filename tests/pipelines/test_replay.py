"""Determinism: saved workflow histories replay against today's workflow code.

A change that would break a batch already running (or waiting at a gate for a week) fails
here. Regenerate the saved histories only on purpose: `STUDIO_RECORD_HISTORIES=1 pytest
tests/pipelines/test_replay.py`, and review the change of behaviour that made it necessary.
Histories of earlier versions stay, prefixed ``v1-``: shots planned before plans came with the
shot and before in-process renders finished their takes (one local activity per stage) must
still replay, since such a shot may be waiting at a gate when the studio is upgraded. ``v2-``
histories are from before outages were told from verdicts (no patch markers, no batch closing
from the catalog); ``shot-waits-for-providers`` is a shot whose only provider was down a while.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from pipelines.client.batches import decide, start_batch, wait_batch
from pipelines.messages import Decision
from pipelines.workflows.batch import BatchWorkflow
from pipelines.workflows.shot import ShotWorkflow
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.pipelines.waiting import eventually
from tests.providers.fakes import FakeGemini
from tests.support.projects import write_project
from tests.support.workers import running_workers

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
PROJECT = """
[project]
name = "Replay"
seed = 3
[defaults]
size = "64x64"
variants = 2
upscale = 2
[approval]
required = true
[[shots]]
id = "one"
prompt = "a lighthouse"
[[shots]]
id = "two"
prompt = "a storm"
"""


def saved() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


@pytest.mark.skipif(os.environ.get("STUDIO_RECORD_HISTORIES") != "1", reason="records histories only on request")
async def test_record_histories(worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await eventually(lambda: [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"] * 2, what="gates")
    await decide(client, batch_id, "one", Decision("changes", note="at dawn"))
    await eventually(
        lambda: (
            len(catalog.takes(f"{batch_id}/one")) == 4 and catalog.shot(f"{batch_id}/one").stage == "awaiting_approval"
        ),
        what="second round",
    )
    await decide(client, batch_id, "one", Decision("approve", 3))
    await decide(client, batch_id, "two", Decision("reject", note="no"))
    await wait_batch(client, batch_id)
    HISTORIES.mkdir(exist_ok=True)
    for name, wf_id in (
        ("batch", batch_id),
        ("shot-changes-approve", f"{batch_id}/one"),
        ("shot-reject", f"{batch_id}/two"),
    ):
        history = await client.get_workflow_handle(wf_id).fetch_history()
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


@pytest.mark.skipif(os.environ.get("STUDIO_RECORD_HISTORIES") != "1", reason="records histories only on request")
async def test_record_provider_wait_history(client: Client, settings: Settings, tmp_path: Path) -> None:
    with FakeGemini() as gemini:
        waiting = settings.model_copy(
            update={
                "gemini_api_key": SecretStr("gemini-replay-key"),
                "gemini_base_url": gemini.base_url,
                "provider_retry_max": 5,
                "circuit_cooldown": 10,
            }
        )
        catalog = Catalog.open(waiting.catalog_url)
        project = PROJECT.replace("[approval]\nrequired = true\n", "").replace("variants = 2", "variants = 1")
        batch, _ = prepare_batch(
            waiting,
            catalog,
            open_asset_store(waiting),
            write_project(tmp_path / "p", project.replace('name = "Replay"', 'name = "Replay"\nchain = ["gemini"]')),
        )
        gemini.down_for(12)
        async with running_workers(client, waiting):
            await start_batch(client, waiting, batch.id)
            await wait_batch(client, batch.id)
        history = await client.get_workflow_handle(f"{batch.id}/one").fetch_history()
        (HISTORIES / "shot-waits-for-providers.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


@pytest.mark.parametrize("path", saved(), ids=lambda p: p.stem)
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    # The strict sandbox (workers run without it by default): a non-deterministic call fails here.
    await Replayer(workflows=[BatchWorkflow, ShotWorkflow], workflow_runner=SandboxedWorkflowRunner()).replay_workflow(
        history
    )


def test_histories_are_saved() -> None:
    names = {"batch", "shot-changes-approve", "shot-reject"}
    versions = {f"{v}-{name}" for v in ("v1", "v2") for name in names}
    assert {p.stem for p in saved()} >= names | versions | {"shot-waits-for-providers"}
