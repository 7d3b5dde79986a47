"""The render cache on the real dev server: an edited storyboard re-renders only the shots whose
recipe changed, `--no-cache` renders everything, and a provider that does not reproduce is never reused."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from studio.batches.launch import prepare_batch
from studio.catalog.models import Take
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.pipelines.processes import worker_env
from tests.providers.fakes import FakeMistral
from tests.support.projects import write_project
from tests.support.workers import running_workers

PRICE = 0.01  # local is free; a price shows what the cache saves
SHOTS = 12
EDITED = ("s02", "s07", "s11")


def storyboard(edited: tuple[str, ...] = ()) -> str:
    """A 12-shot, 2-variant local project with a fixed batch seed; ``edited`` shots get a new prompt."""
    shots = "".join(
        f'[[shots]]\nid = "s{n:02d}"\nprompt = "shot {n}: the keeper climbs the stair{", at night" if f"s{n:02d}" in edited else ""}"\n'
        for n in range(1, SHOTS + 1)
    )
    return f'[project]\nname = "Cached"\nseed = 77\n[defaults]\nsize = "64x64"\nvariants = 2\nupscale = 1\n{shots}'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test's settings with local renders priced, for the worker and the CLI alike."""
    return settings.model_copy(update={"prices": {"local": PRICE}})


def studio(settings: Settings, *args: str) -> Awaitable[subprocess.CompletedProcess[str]]:
    """`studio ARGS` in a subprocess (off the loop the in-process worker turns on), priced like the worker."""
    env = worker_env(settings, COLUMNS="200", STUDIO_PRICES=json.dumps(settings.prices))
    command = [sys.executable, "-m", "studio.cli", *args]
    return asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)


def by_place(takes: list[Take]) -> dict[tuple[str, int], Take]:
    return {(t.shot_key.rsplit("/", 1)[1], t.number): t for t in takes}


def render_calls(catalog: Catalog, batch_id: str) -> list[str]:
    return [a.take_id for a in catalog.attempts(batch_id=batch_id) if a.stage == "render"]


async def test_an_edited_storyboard_renders_only_what_changed(
    worker: None,
    launch: Callable[[Path], Awaitable[str]],
    client: Client,
    catalog: Catalog,
    settings: Settings,
    tmp_path: Path,
) -> None:
    project = write_project(tmp_path / "film", storyboard())
    first = await launch(project)
    assert await wait_batch(client, first) == {"published": SHOTS}
    assert len(render_calls(catalog, first)) == 24

    write_project(project, storyboard(EDITED))
    second = await launch(project)
    assert await wait_batch(client, second) == {"published": SHOTS}
    before, after = by_place(catalog.batch_takes(first)), by_place(catalog.batch_takes(second))
    rendered = [t for t in after.values() if t.cached_from is None]
    reused = [t for t in after.values() if t.cached_from is not None]
    assert sorted({t.shot_key.rsplit("/", 1)[1] for t in rendered}) == list(EDITED) and len(rendered) == 6
    assert len(reused) == 18 and sorted(render_calls(catalog, second)) == sorted(t.id for t in rendered)
    for place, take in after.items():
        if take.cached_from is not None:
            source = before[place]
            assert take.cached_from == source.id and take.asset_key == source.asset_key
            assert take.cost_usd == 0.0 and take.review_score is not None  # reviewed as usual
        else:
            assert take.cost_usd == PRICE and take.asset_key != before[place].asset_key

    status = await studio(settings, "status", second, "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["cache"] == {"enabled": True, "takes": 18, "saved_usd": 0.18}
    shown = await studio(settings, "show", reused[0].id)
    assert shown.returncode == 0, shown.stderr
    assert f"from cache: {reused[0].cached_from}" in shown.stdout

    # --no-cache renders every take again: the same recipes give the same bytes (local reproduces).
    run = await studio(settings, "run", str(project), "--no-cache", "--detach")
    assert run.returncode == 0, run.stderr
    third = run.stdout.strip()
    assert await wait_batch(client, third) == {"published": SHOTS}
    again = by_place(catalog.batch_takes(third))
    assert len(render_calls(catalog, third)) == 24 and all(t.cached_from is None for t in again.values())
    assert {place: t.asset_key for place, t in again.items()} == {place: t.asset_key for place, t in after.items()}
    status = await studio(settings, "status", third, "--json")
    assert json.loads(status.stdout)["cache"] == {"enabled": False, "takes": 0, "saved_usd": 0.0}


MISTRAL_PROJECT = """
[project]
name = "Never cached"
seed = 5
chain = ["mistral"]
[defaults]
size = "64x64"
variants = 2
upscale = 1
[[shots]]
id = "one"
prompt = "a lighthouse in fog"
"""


async def test_a_provider_that_does_not_reproduce_is_never_reused(
    temporal_address: str, tmp_path: Path, backend: dict[str, str], mistral: FakeMistral
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"c-{uuid.uuid4().hex[:8]}",
        MISTRAL_API_KEY="mistral-secret-key-cache",
        MISTRAL_BASE_URL=mistral.base_url,
        **backend,
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    project = write_project(tmp_path / "p", MISTRAL_PROJECT)
    client = await connect(settings)
    async with running_workers(client, settings):
        batches = []
        for _ in range(2):
            batch, _ = prepare_batch(settings, catalog, assets, project)
            await start_batch(client, settings, batch.id)
            assert await wait_batch(client, batch.id) == {"published": 1}
            batches.append(batch.id)
    for batch_id in batches:
        takes = catalog.batch_takes(batch_id)
        assert all(t.provider == "mistral" and t.cached_from is None and t.recipe_hash is None for t in takes)
        assert len(render_calls(catalog, batch_id)) == 2
