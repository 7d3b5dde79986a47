"""The `studio` command as a user runs it: subprocesses, real server, real worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from studio.batches.preview import render_notices
from studio.catalog.store import Catalog
from studio.project.loader import load_project
from studio.settings import Settings
from tests.pipelines.processes import worker_env
from tests.pipelines.waiting import eventually
from tests.support.projects import SAMPLES, write_project

GATED = '[project]\nname = "Cli gate"\n[defaults]\nsize = "64x64"\nvariants = 2\nupscale = 1\n[approval]\nrequired = true\n[[shots]]\nid = "x"\nprompt = "a kite"\n'


def studio(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio.cli", *args],
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_project_is_one_line_and_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    bad = write_project(tmp_path / "bad", '[project]\nname = "x"\n[[shots]]\nid = "a"\nprompt = "p"\nvariants = 99\n')
    result = studio(settings, "run", str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "shot 'a'" in result.stderr and "variants" in result.stderr and "project.toml" in result.stderr
    assert not settings.home.exists(), "bad input must not create the catalog or anything else"


def test_unreachable_temporal_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "h", temporal_address="127.0.0.1:1", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    result = studio(settings, "run", str(SAMPLES / "short-film"), "--detach")
    assert result.returncode == 2 and "cannot reach Temporal at 127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr and not settings.home.exists()


def test_unknown_batch_is_one_line(settings: Settings) -> None:
    result = studio(settings, "status", "nope-000000")
    assert result.returncode == 2 and result.stderr.strip() == "studio: no batch 'nope-000000'"


async def test_run_status_approve_from_the_command_line(
    worker: None, settings: Settings, catalog: Catalog, tmp_path: Path
) -> None:
    # The in-process worker shares this event loop: run the CLI in a thread so it keeps turning.
    async def studio_(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(studio, settings, *args)

    project = write_project(tmp_path / "p", GATED)
    result = await studio_("run", str(project), "--detach")
    assert result.returncode == 0, result.stderr
    batch_id = result.stdout.strip()
    # Once, at launch, on stderr (stdout stays the batch id): who renders when keys are missing.
    said = [f"studio: {line}" for line in render_notices(load_project(project), Settings())]
    assert result.stderr.splitlines() == said
    if not any(os.environ.get(key) for key in ("MISTRAL_API_KEY", "GEMINI_API_KEY", "REPLICATE_API_TOKEN", "FAL_KEY")):
        assert said == [
            "studio: rendering on local (procedural preview): no key for mistral (MISTRAL_API_KEY), "
            "gemini (GEMINI_API_KEY), replicate (REPLICATE_API_TOKEN), fal (FAL_KEY)"
        ]
    await eventually(lambda: [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"], what="the gate")
    status = json.loads((await studio_("status", batch_id, "--json")).stdout)
    assert status["state"] == "waiting" and status["stages"]["approval"]["waiting"] == 1
    assert set(status) >= {"batch", "project", "state", "stages", "takes", "provider_calls", "output_dir", "shots"}
    assert status["stages"]["render"] == {"done": 2, "failed": 0, "total": 2}

    refused = await studio_("approve", batch_id, "x", "--take", "7")
    assert refused.returncode == 2 and "no take 7" in refused.stderr
    ok = await studio_("approve", batch_id, "x", "--take", "2", "--note", "ship it", "--who", "ana")
    assert ok.returncode == 0 and "approved take 2" in ok.stdout

    await eventually(lambda: catalog.batch(batch_id).state == "published", what="publish")
    final = json.loads((await studio_("status", batch_id, "--json")).stdout)
    assert final["state"] == "published" and final["stages"]["publish"] == {"done": 1, "total": 1}
    listing = json.loads((await studio_("status", "--json")).stdout)
    assert [row["batch"] for row in listing] == [batch_id]
