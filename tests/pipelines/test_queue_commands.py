"""`studio pause`, `studio resume` and `studio weight` as a user runs them: subprocesses against the
real dev server and worker; weights read back from Temporal's own task-queue configuration."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from temporalio.client import Client

from pipelines.client.weights import WeightRefused, client_weights, set_client_weight
from studio.catalog.store import Catalog
from studio.settings import Settings
from tests.pipelines.test_cli import GATED, studio
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project


async def test_pause_and_resume_from_the_command_line(
    worker: None, launch, settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    async def studio_(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(studio, settings, *args)

    batch_id = await launch(write_project(tmp_path / "p", GATED))
    await eventually(
        lambda: [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"], what="the gate to open"
    )

    paused = await studio_("pause", batch_id)
    assert paused.returncode == 0 and f"batch {batch_id} paused" in paused.stdout
    status = json.loads((await studio_("status", batch_id, "--json")).stdout)
    assert status["state"] == "paused" and status["eta"] is None
    assert "Paused: no render starts" in (await studio_("status", batch_id)).stdout
    queue = json.loads((await studio_("queue", "--json")).stdout)
    assert [b["place"] for b in queue["batches"] if b["batch"] == batch_id] == ["paused"]

    resumed = await studio_("resume", batch_id)
    assert resumed.returncode == 0 and f"batch {batch_id} resumed" in resumed.stdout
    assert json.loads((await studio_("status", batch_id, "--json")).stdout)["state"] == "waiting"  # at its gate

    unknown = await studio_("pause", "nope-000000")
    assert unknown.returncode == 2 and unknown.stderr.strip() == "studio: no batch 'nope-000000'"


async def test_a_client_is_reweighted_on_every_studio_queue(client: Client, settings: Settings) -> None:
    said = await set_client_weight(client, settings, "acme", 3)
    assert "weight 3" in said
    assert await client_weights(client, settings) == {"acme": 3.0}
    listed = await asyncio.to_thread(studio, settings, "weight", "--json")
    rows = {row["client"]: row for row in json.loads(listed.stdout)}
    assert rows["acme"]["weight"] == 3.0 and rows["acme"]["source"] == "set now"

    reset = await asyncio.to_thread(studio, settings, "weight", "acme", "--reset")
    assert reset.returncode == 0 and "back to its launch weight" in reset.stdout
    assert await client_weights(client, settings) == {}

    missing = await asyncio.to_thread(studio, settings, "weight", "acme")
    assert (
        missing.returncode == 2
        and missing.stderr.strip() == "studio: client 'acme': give it a WEIGHT, or --reset (not both)"
    )
    refused = await asyncio.to_thread(studio, settings, "weight", "acme", "0")
    assert refused.returncode == 2 and "must be above 0 and at most 1000" in refused.stderr
    try:
        await set_client_weight(client, settings, "   ", 2)
    except WeightRefused as err:
        assert err.reason == "a client needs a name"
    else:
        raise AssertionError("an empty client name was taken")
