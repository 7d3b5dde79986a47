"""`studio show / find / unpublish / cancel` as a user runs them, on batches a real worker ran."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from pipelines.client.batches import decide
from pipelines.messages import Decision
from studio.catalog.models import Take
from studio.catalog.store import Catalog
from studio.settings import Settings
from tests.pipelines.processes import worker_env
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project

PLAIN = """
[project]
name = "Lineage"
[defaults]
size = "64x64"
variants = 2
upscale = 1
[[shots]]
id = "kite"
prompt = "A red Kite over the dunes"
seed = 4242
[[shots]]
id = "sea"
prompt = "a calm sea at noon"
"""

GATED = """
[project]
name = "Cancel me"
[defaults]
size = "64x64"
variants = 1
upscale = 1
[approval]
required = true
[[shots]]
id = "a"
prompt = "a lighthouse"
[[shots]]
id = "b"
prompt = "a harbour"
"""


async def studio(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `studio ARGS` in a subprocess, off the event loop the in-process worker turns on."""
    env = worker_env(settings, COLUMNS="200")  # wide enough that rich does not wrap ids and paths
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "studio.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_show_find_unpublish(worker: None, launch, settings: Settings, catalog: Catalog, tmp_path: Path) -> None:
    """show, find and unpublish on one published batch, as a user runs them in turn.

    Long because it is one user's session: each step reads what the one before left.
    """
    batch_id = await launch(write_project(tmp_path / "p", PLAIN))
    await eventually(lambda: catalog.batch(batch_id).state == "published", what="publish")
    kite = catalog.shot(f"{batch_id}/kite")
    assert kite.final_take_id is not None
    chosen = catalog.take(kite.final_take_id)
    # What a replay leaves behind: a take in another batch whose parent is the chosen take.
    child = Take(
        id="replay-000001/kite/1",
        batch_id="replay-000001",
        shot_key="replay-000001/kite",
        number=1,
        status="reviewed",
        provider="local",
        seed=chosen.seed_used,
        seed_used=chosen.seed_used,
        prompt=chosen.prompt,
        width=64,
        height=64,
        parent_take_id=chosen.id,
    )
    with catalog.session() as s:
        s.add(child)

    shown = await studio(settings, "show", child.id, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert [p["take"] for p in data["parents"]] == [chosen.id] and data["chain_end"] == "root"
    assert data["recipe"]["parent_take_id"] == chosen.id and data["recipe"]["seed"] == chosen.seed_used

    shown = await studio(settings, "show", chosen.id)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert chosen.id in out and "A red Kite over the dunes" in out and "local-procedural" in out
    assert str(chosen.seed_used) in out and "64x64" in out and "made from its prompt" in out
    assert "made from it (1 direct, 1 in all)" in out and child.id in out
    published = catalog.publications(batch_id)
    kite_file = next(p.path for p in published if p.take_id == chosen.id)
    assert kite_file in out

    missing = await studio(settings, "show", "nope-000000/x/1")
    assert missing.returncode == 2 and missing.stderr.strip() == "studio: no take 'nope-000000/x/1'"

    async def found(*filters: str) -> list[str]:
        result = await studio(settings, "find", *filters, "--json")
        assert result.returncode == 0, result.stderr
        return [row["take"] for row in json.loads(result.stdout)]

    kite_takes = {f"{batch_id}/kite/1", f"{batch_id}/kite/2"}
    assert set(await found("--prompt", "KITE", "--batch", batch_id)) == kite_takes
    assert set(await found("--seed", "4242", "--batch", batch_id)) == {f"{batch_id}/kite/1"}
    assert set(await found("--approved", "--batch", batch_id)) == {p.take_id for p in published}
    assert set(await found("--provider", "local")) == kite_takes | {f"{batch_id}/sea/1", f"{batch_id}/sea/2", child.id}
    assert await found("--provider", "gemini") == []
    assert len(await found("--limit", "2")) == 2
    table = await studio(settings, "find", "--prompt", "kite")
    assert table.returncode == 0 and f"{batch_id}/kite/1" in table.stdout and "4242" in table.stdout
    assert "no takes match" in (await studio(settings, "find", "--prompt", "zeppelin")).stdout
    bad = await studio(settings, "find", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr

    ended = await studio(settings, "cancel", batch_id)
    assert ended.returncode == 2 and "already ended (published)" in ended.stderr
    assert all(Path(p.path).exists() for p in published), "refusing to cancel must leave the files"

    down = await studio(settings, "unpublish", batch_id)
    assert down.returncode == 0, down.stderr
    assert f"removed {kite_file}" in down.stdout and "manifest.json" in down.stdout
    assert f"recorded: {len(published)} published file(s)" in down.stdout
    assert not any(Path(p.path).exists() for p in published) and catalog.publications(batch_id) == []
    again = await studio(settings, "unpublish", batch_id)
    assert again.returncode == 0 and f"batch {batch_id} has nothing published" in again.stdout
    gone = await studio(settings, "unpublish", "nope-000000")
    assert gone.returncode == 2 and gone.stderr.strip() == "studio: no batch 'nope-000000'"


@pytest.mark.parametrize("keep", [False, True], ids=["unpublish", "keep-published"])
async def test_cancel_a_batch_waiting_at_a_gate(
    worker: None, launch, client: Client, settings: Settings, catalog: Catalog, tmp_path: Path, keep: bool
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", GATED))

    def stages() -> dict[str, str]:
        return {s.shot_id: s.stage for s in catalog.shots(batch_id)}

    await eventually(lambda: stages() == {"a": "awaiting_approval", "b": "awaiting_approval"}, what="both gates")
    await decide(client, batch_id, "a", Decision("approve", 1))
    await eventually(lambda: stages()["a"] == "published", what="shot a to publish")
    (published,) = catalog.publications(batch_id)
    assert Path(published.path).exists()

    result = await studio(settings, "cancel", batch_id, *(["--keep-published"] if keep else []))
    assert result.returncode == 0, result.stderr
    assert f"batch {batch_id} cancelled (its workflow cancelled)" in result.stdout
    assert "shots stopped: b" in result.stdout and "shots marked cancelled: b" in result.stdout

    async def status_of(workflow_id: str) -> WorkflowExecutionStatus | None:
        return (await client.get_workflow_handle(workflow_id).describe()).status

    assert await status_of(batch_id) == WorkflowExecutionStatus.CANCELED
    assert await status_of(f"{batch_id}/b") == WorkflowExecutionStatus.CANCELED
    assert await status_of(f"{batch_id}/a") == WorkflowExecutionStatus.COMPLETED
    assert stages() == {"a": "published", "b": "cancelled"}
    assert catalog.batch(batch_id).state == "cancelled" and catalog.batch(batch_id).finished_at is not None
    if keep:
        assert "kept 1 published file(s)" in result.stdout
        assert Path(published.path).exists() and len(catalog.publications(batch_id)) == 1
    else:
        assert f"removed {published.path}" in result.stdout
        assert not Path(published.path).exists() and catalog.publications(batch_id) == []

    status = await studio(settings, "status", batch_id, "--json")
    summary = json.loads(status.stdout)
    assert summary["state"] == "cancelled" and summary["shots"]["cancelled"] == 1
    assert summary["stages"]["approval"]["waiting"] == 0
    listing = await studio(settings, "status")
    assert "cancelled" in listing.stdout

    # Cancelling again finds nothing running and changes nothing.
    again = await studio(settings, "cancel", batch_id, *(["--keep-published"] if keep else []))
    assert again.returncode == 0, again.stderr
    assert "its workflow was not running" in again.stdout and "shots stopped" not in again.stdout
    assert catalog.batch(batch_id).state == "cancelled"
    unknown = await studio(settings, "cancel", "nope-000000")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "studio: no batch 'nope-000000'"
