"""Scratch proof: a provider added through the table alone works in every layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import Client

from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.client.batches import start_batch, wait_batch
from studio.batches.preview import call_plan, estimate, render_notices
from studio.batches.replay import ReplayRequest, check_request, origin_of_take, plan_replay
from studio.catalog.store import Catalog
from studio.project.loader import ProjectError, load_project
from studio.settings import Settings
from studio.storage.local import AssetStore
from studio.views.status import KEY_NAMES
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Dummy"
seed = 3
chain = ["dum"]
[defaults]
size = "64x64"
upscale = 2
[[shots]]
id = "one"
prompt = "a dummy frame"
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dummy_api_key": SecretStr("dummy-secret")})


@pytest.fixture
def providers(settings: Settings) -> ProviderSet:
    return build_providers(settings)


def test_static_layers(settings: Settings, tmp_path: Path) -> None:
    found = build_providers(settings)
    assert "dummy" in found.renderers and "dummy" in found.remote()
    assert found.review_chain() == ["dummy", "local"] and found.upscale_chain() == ["dummy", "local"]
    assert KEY_NAMES["dummy"] == "DUMMY_API_KEY"
    plan = call_plan(settings)
    assert plan.available == ("local", "dummy") and plan.upscaler == "dummy" and plan.reviewer == "dummy"
    project = load_project(write_project(tmp_path / "p", PROJECT))
    est = estimate(project, plan)
    assert est.cost_usd == 0.875, est
    assert render_notices(project, settings) == []
    bad = write_project(tmp_path / "q", PROJECT.replace('["dum"]', '["dall"]'))
    with pytest.raises(ProjectError, match="use one of local, mistral, pixtral, gemini, replicate, fal, dummy, dum"):
        load_project(bad)
    assert "dummy-secret" not in repr(settings)


async def test_a_batch_renders_upscales_and_reviews_on_dummy(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, settings: Settings, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    assert await wait_batch(client, batch_id) == {"published": 1}
    (take,) = catalog.batch_takes(batch_id)
    assert (take.provider, take.model) == ("dummy", "dummy-v1")
    attempts = catalog.attempts(batch_id=batch_id)
    assert {a.provider for a in attempts} == {"dummy"}
    assert round(sum(a.cost_usd for a in attempts), 3) == 0.875
    vary = ReplayRequest(take.id, "vary-subtle")
    assert check_request(vary, origin_of_take(catalog, take)) == "dummy"  # dummy takes an input image
    again = plan_replay(settings, catalog, assets, vary)
    await start_batch(client, settings, again.id)
    assert await wait_batch(client, again.id) == {"published": 1}
    catalog_file = settings.home / "catalog.db"
    assert not catalog_file.exists() or b"dummy-secret" not in catalog_file.read_bytes()  # the key stays out
