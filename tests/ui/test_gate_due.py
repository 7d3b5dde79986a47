"""The owner's Approvals page says when a gate with a deadline is due; a gate without one says nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.states import ShotStage
from studio.storage import AssetStore
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, populate_batch, run

TWO_SHOTS = """
[project]
name = "Due Kites"
seed = 5
[defaults]
size = "64x64"
variants = 1
upscale = 1
[[shots]]
id = "kite"
prompt = "a red kite"
[[shots]]
id = "hill"
prompt = "a green hill"
"""


async def test_approvals_page_shows_when_a_gate_is_due(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await populate_batch(app_env, catalog, assets, write_project(tmp_path / "p", TWO_SHOTS))
    due = datetime.now(UTC) + timedelta(days=2, hours=6)
    catalog.update_shot(f"{batch_id}/kite", stage=ShotStage.AWAITING_APPROVAL, gate_due_at=due)
    catalog.update_shot(f"{batch_id}/hill", stage=ShotStage.AWAITING_APPROVAL)
    at = await run(new_app("app_pages/approvals.py"))
    # One caption, for the one gate with a deadline (the other shot's gate waits for ever).
    assert [c.value for c in at.caption if "due in" in c.value] == [
        f":material/schedule: due in 2 days ({due:%Y-%m-%d %H:%M} UTC)"
    ]
