"""An in-process provider that fails is a failed attempt, never a failed workflow."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.client.batches import wait_batch
from providers.local.adapters import LocalRenderer
from studio.catalog.store import Catalog
from studio.settings import Settings
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Faults"
[defaults]
size = "64x64"
upscale = 1
[[shots]]
id = "refused"
prompt = "REFUSE this one"
[[shots]]
id = "blank"
prompt = "BLANK frame"
[[shots]]
id = "fine"
prompt = "a sunny meadow"
"""


@pytest.fixture
def providers(settings: Settings) -> ProviderSet:
    found = build_providers(settings)
    # The local renderer's documented test knob: prompts that trigger a refusal or a flat image.
    found.renderers["local"] = LocalRenderer(fail_prompts={"REFUSE": "rejected", "BLANK": "blank"})
    return found


async def test_refusals_and_blank_images_end_in_plain_outcomes(
    worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    assert await wait_batch(client, batch_id) == {"failed": 1, "rejected": 1, "published": 1}
    stages = {s.shot_id: (s.stage, s.error) for s in catalog.shots(batch_id)}
    assert stages["refused"] == ("failed", "no take could be rendered")
    assert stages["blank"] == ("rejected", "automated review rejected every take")
    (refused,) = catalog.takes(f"{batch_id}/refused")
    assert refused.status == "failed" and "local" in (refused.error or "")
    calls = [a for a in catalog.attempts(take_id=refused.id)]
    assert [(a.status, a.error_class) for a in calls] == [("failed", "Rejected")], "a refusal is never retried"
    (blank,) = catalog.takes(f"{batch_id}/blank")
    assert blank.review_passed is False and "flat" in (blank.review_notes or "")
