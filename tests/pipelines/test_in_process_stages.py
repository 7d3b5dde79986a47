"""In-process stages: a local render also upscales and reviews its take in the same local activity,
and a shot starts with its plan from the batch, so a local shot costs two local activities
(render, publish) instead of five. A failure in those stages falls back to one stage at a time."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from pipelines.activities.planning import batch_plan
from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.client.batches import wait_batch
from pipelines.messages import BatchPlan, post_stages_in_process
from providers.base import Unavailable, UpscaleResult
from providers.local.adapters import LocalUpscaler
from studio.catalog.models import Shot, Take, detached
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project

PROJECT = """
[project]
name = "In process"
[defaults]
size = "96x64"
variants = 2
upscale = 2
[[shots]]
id = "dawn"
prompt = "a harbour at dawn"
[[shots]]
id = "dusk"
prompt = "a harbour at dusk"
"""


async def local_activities(client: Client, workflow_id: str) -> list[str]:
    """The local activity types a workflow's history records, in order."""
    kinds = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            data = event.marker_recorded_event_attributes.details["data"].payloads[0].data
            kinds.append(json.loads(data)["activity_type"])
    return kinds


def check_finished_takes(catalog: Catalog, assets: AssetStore, batch_id: str) -> None:
    for take in catalog.batch_takes(batch_id):
        assert take.review_score is not None and take.review_model, take.id
        assert take.final_key and take.final_key != take.asset_key, "the final is the upscaled image"
        with Image.open(io.BytesIO(assets.get(take.final_key))) as final:
            assert final.size == (192, 128)


async def test_a_local_shot_is_two_local_activities(
    worker: None, launch, client: Client, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    assert await wait_batch(client, batch_id) == {"published": 2}
    for shot in ("dawn", "dusk"):
        # No plan_shot (the plan came with the shot), no separate upscale or review.
        assert await local_activities(client, f"{batch_id}/{shot}") == ["render", "render", "publish"]
    check_finished_takes(catalog, assets, batch_id)
    published = {s.shot_id: s.final_take_id for s in catalog.shots(batch_id)}
    assert set(published) == {"dawn", "dusk"} and all(published.values())


class FlakyUpscaler(LocalUpscaler):
    """The local upscaler, down for its first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def upscale(self, image: bytes, **kwargs: object) -> UpscaleResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise Unavailable("upscaler warming up", provider="local")
        return await super().upscale(image, **kwargs)  # type: ignore[arg-type]  # passes the keyword arguments through unchanged


class TestFallback:
    @pytest.fixture
    def providers(self, settings: Settings) -> ProviderSet:
        found = build_providers(settings)
        found.upscalers["local"] = FlakyUpscaler(failures=1)
        return found

    async def test_a_failure_there_falls_back_to_one_stage_at_a_time(
        self,
        worker: None,
        launch,
        client: Client,
        catalog: Catalog,
        assets: AssetStore,
        providers: ProviderSet,
        tmp_path: Path,
    ) -> None:
        one_take = PROJECT.replace("variants = 2", "variants = 1").split('[[shots]]\nid = "dusk"')[0]
        batch_id = await launch(write_project(tmp_path / "p", one_take))
        assert await wait_batch(client, batch_id) == {"published": 1}
        # The render's own try at upscaling failed; the workflow then ran the stages on their own.
        assert await local_activities(client, f"{batch_id}/dawn") == ["render", "upscale", "review", "publish"]
        upscaler = providers.upscalers["local"]
        assert isinstance(upscaler, FlakyUpscaler) and upscaler.calls == 2
        check_finished_takes(catalog, assets, batch_id)
        (take,) = catalog.batch_takes(batch_id)
        assert [a.stage for a in catalog.attempts(take_id=take.id)] == ["render"], "the render was made once"


def test_post_stages_in_process_only_when_the_first_choices_are_local() -> None:
    assert post_stages_in_process(1, ["replicate", "local"], ["local"]), "no upscale: only the reviewer counts"
    assert post_stages_in_process(2, ["local"], ["local"])
    assert not post_stages_in_process(2, ["replicate", "local"], ["local"]), "a paid upscaler comes first"
    assert not post_stages_in_process(1, ["local"], ["mistral", "local"]), "a vendor reviews first"


def test_batch_plan_gives_each_shot_its_plan() -> None:
    plan = BatchPlan(
        ["a", "b"],
        False,
        takes=[2, 1],
        upscales=[2, 1],
        chain_of=[0, 1],
        chains=[["local"], ["mistral", "local"]],
        reviewers=["local"],
        upscalers=["local"],
        in_process=["local"],
    )
    a, b = plan.shot_plan("B1", 0), plan.shot_plan("B1", 1)
    assert a is not None and b is not None
    assert (a.shot_key, a.take_ids, a.chain, a.upscale, a.finish_in_render) == (
        "B1/a",
        ["B1/a/1", "B1/a/2"],
        ["local"],
        2,
        True,
    )
    assert (b.take_ids, b.chain, b.in_process) == (["B1/b/1"], ["mistral", "local"], ["local"])
    assert BatchPlan(["a"], False).shot_plan("B1", 0) is None, "a plan without them: the shot reads its own"


def test_storyboard_plan_only_for_takes_numbered_one_to_n(settings: Settings) -> None:
    providers = build_providers(settings)
    shots = [detached(Shot, key=f"B1/{sid}", shot_id=sid, chain=["local"], upscale=2) for sid in ("a", "b")]
    takes = [
        detached(Take, id=f"B1/{sid}/{n}", shot_key=f"B1/{sid}", number=n) for sid, n in (("a", 2), ("a", 1), ("b", 1))
    ]
    plan = batch_plan(shots, takes, BatchPlan([], False), providers)
    a = plan.shot_plan("B1", 0)
    assert plan.shot_ids == ["a", "b"] and a is not None and a.take_ids == ["B1/a/1", "B1/a/2"]
    assert a.finish_in_render is True
    # A take out of line (a round added later, say): every shot reads its own plan instead.
    odd = batch_plan(
        shots, [*takes, detached(Take, id="B1/b/7", shot_key="B1/b", number=7)], BatchPlan([], False), providers
    )
    assert odd.shot_ids == ["a", "b"] and odd.shot_plan("B1", 0) is None
