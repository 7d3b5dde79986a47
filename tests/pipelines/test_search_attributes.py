"""Batches and shots are found in Temporal's own tools by project, kind, batch and client.

The session's dev server comes from ``start_dev_server``, so it has the search attributes
registered; a bare ``temporal server start-dev`` stands for an external cluster that lacks them.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.devserver import (
    die_with_parent,
    free_port,
    port_open,
    start_dev_server,
    stop_process,
    temporal_binary,
)
from pipelines.search_attributes import BATCH, BATCH_KIND, CLIENT, NAMES, PROJECT, register_command
from studio.batches.launch import prepare_batch
from studio.batches.replay import ReplayRequest, plan_replay
from studio.batches.rerun import plan_rerun
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project
from tests.support.workers import running_workers


def project(name: str, shots: int) -> str:
    head = f'[project]\nname = "{name}"\nseed = 7\n[defaults]\nsize = "64x64"\nupscale = 1\n'
    return head + "".join(f'[[shots]]\nid = "s{i}"\nprompt = "frame {i}"\n' for i in range(1, shots + 1))


async def listed(client: Client, query: str) -> set[str]:
    return {wf.id async for wf in client.list_workflows(query)}


async def settles(client: Client, query: str, expected: set[str], timeout: float = 20.0) -> None:
    """Visibility lags history a little: wait until ``query`` lists exactly ``expected``."""
    deadline = time.monotonic() + timeout
    while (found := await listed(client, query)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{query} listed {sorted(found)}, expected {sorted(expected)}")
        await asyncio.sleep(0.3)


def of_batch(ids: set[str], batch_id: str) -> set[str]:
    return {wid for wid in ids if wid == batch_id or wid.startswith(f"{batch_id}/")}


async def test_batches_and_shots_are_found_by_each_attribute(
    worker: None, settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    name, slug, client_name = f"Filter Me {tag}", f"filter-me-{tag}", f"Northwind {tag}"
    run, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(name, 3)))
    await start_batch(client, settings, run.id, client_name=client_name)
    assert await wait_batch(client, run.id) == {"published": 3}
    replay = plan_replay(settings, catalog, assets, ReplayRequest(f"{run.id}/s2/1"))
    await start_batch(client, settings, replay.id)
    rerun, _ = plan_rerun(settings, catalog, assets, run.id, ["s3"])
    await start_batch(client, settings, rerun.id)
    await asyncio.gather(wait_batch(client, replay.id), wait_batch(client, rerun.id))

    # Ground truth without our attributes: every workflow on this test's own task queue.
    everything = await listed(client, f'TaskQueue="{settings.task_queue}"')
    run_ids, replay_ids, rerun_ids = (of_batch(everything, b.id) for b in (run, replay, rerun))
    assert run_ids == {run.id, *(f"{run.id}/s{i}" for i in (1, 2, 3))}
    assert len(replay_ids) >= 2 and len(rerun_ids) >= 2, "each batch should have started a shot workflow"

    await settles(client, f'{PROJECT.name}="{slug}"', everything)  # a replay counts as its origin's project
    await settles(client, f'{BATCH.name}="{run.id}"', run_ids)
    await settles(client, f'{BATCH_KIND.name}="replay" AND {PROJECT.name}="{slug}"', replay_ids)
    await settles(client, f'{BATCH_KIND.name}="rerun" AND {PROJECT.name}="{slug}"', rerun_ids)
    await settles(client, f'{BATCH_KIND.name}="project" AND {PROJECT.name}="{slug}"', run_ids)
    await settles(client, f'{CLIENT.name}="{client_name}"', run_ids)
    await settles(client, f'{CLIENT.name} IS NULL AND {PROJECT.name}="{slug}"', replay_ids | rerun_ids)

    run_memo = {"project": name, "batch": run.id, "kind": "project", "client": client_name}
    for wid in run_ids:
        assert await (await client.get_workflow_handle(wid).describe()).memo() == run_memo
    replay_memo = {"project": name, "batch": replay.id, "kind": "replay", "parent_batch": run.id}
    for wid in replay_ids:
        assert await (await client.get_workflow_handle(wid).describe()).memo() == replay_memo


async def test_shots_started_after_continue_as_new_keep_the_attributes(
    settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    narrow = settings.model_copy(update={"shots_in_flight": 2})  # later shots start in later runs
    batch, _ = prepare_batch(narrow, catalog, assets, write_project(tmp_path / "p", project("Long Run", 8)))
    async with running_workers(client, narrow):
        await start_batch(client, narrow, batch.id, history_limit=40)
        assert await wait_batch(client, batch.id) == {"published": 8}
    shots = {f"{batch.id}/s{i}" for i in range(1, 9)}
    await settles(client, f'{BATCH.name}="{batch.id}" AND {PROJECT.name}="long-run"', {batch.id} | shots)
    # Every run of the batch (one per continue-as-new) carries them, not only the first.
    runs = [wf.run_id async for wf in client.list_workflows(f'WorkflowId="{batch.id}"')]
    query = f'WorkflowId="{batch.id}" AND {BATCH.name}="{batch.id}"'
    labelled = [wf.run_id async for wf in client.list_workflows(query)]
    assert len(runs) > 1, "the batch never continued as new"
    assert sorted(labelled) == sorted(runs)


def bare_server(db_file: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``temporal server start-dev`` with no search attributes registered, as a cluster may be."""
    port = free_port()
    args = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "error",
    ]
    if db_file is not None:
        args += ["--db-filename", str(db_file)]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent
    )
    deadline = time.monotonic() + 30
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc.pid)
            raise AssertionError(f"the bare dev server did not start (exit code {proc.poll()})")
        time.sleep(0.1)
    return proc, f"127.0.0.1:{port}"


@pytest.fixture
def bare_address() -> Iterator[str]:
    proc, address = bare_server()
    try:
        yield address
    finally:
        stop_process(proc.pid)


@pytest.mark.temporal  # a bare dev server of its own (bare_address)
async def test_unregistered_cluster_starts_the_batch_and_names_the_command(
    bare_address: str, tmp_path: Path, assets: AssetStore, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=tmp_path / "bare", temporal_address=bare_address, task_queue="bare", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    catalog, client = Catalog.open(settings.catalog_url), await connect(settings)
    folder = write_project(tmp_path / "p", project("Bare Cluster", 1))
    first, _ = prepare_batch(settings, catalog, assets, folder)
    with caplog.at_level(logging.WARNING, logger="pipelines.client.batches"):
        await start_batch(client, settings, first.id)
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipelines.client.batches"]
    command = register_command("default")
    assert len(warnings) == 1 and "\n" not in warnings[0] and command in warnings[0]
    described = await client.get_workflow_handle(first.id).describe()
    assert described.status == WorkflowExecutionStatus.RUNNING  # started all the same, with no attributes
    assert (await described.memo())["project"] == "Bare Cluster"
    assert not any(key.name in NAMES for key in [pair.key for pair in described.typed_search_attributes])

    # The command the warning (and README) names registers every attribute the studio sets.
    subprocess.run(
        [str(temporal_binary()), *shlex.split(command)[1:], "--address", bare_address],
        check=True,
        capture_output=True,
        timeout=60,
    )
    caplog.clear()
    second, _ = prepare_batch(settings, catalog, assets, folder)
    await start_batch(client, settings, second.id, client_name="Acme")
    assert not [r for r in caplog.records if r.name == "pipelines.client.batches"]
    attributes = (await client.get_workflow_handle(second.id).describe()).typed_search_attributes
    assert {pair.key.name: pair.value for pair in attributes if pair.key.name in NAMES} == {
        "StudioProject": "bare-cluster",
        "StudioBatchKind": "project",
        "StudioBatch": second.id,
        "StudioClient": "Acme",
    }


@pytest.mark.temporal  # starts dev servers of its own on one database
def test_a_dev_server_database_from_before_gets_the_attributes(tmp_path: Path) -> None:
    db = tmp_path / "temporal.db"
    proc, _ = bare_server(db)  # a STUDIO_HOME made before the studio registered anything
    stop_process(proc.pid)
    port = free_port()
    server = start_dev_server(port=port, ui_port=None, db_file=db, log_file=tmp_path / "server.log")
    try:
        listed = subprocess.run(
            [str(temporal_binary()), "operator", "search-attribute", "list", "--address", f"127.0.0.1:{port}"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        stop_process(server.pid)
    registered = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert set(NAMES) <= registered
