"""The client page's compare and download sections through AppTest (tests/ui/review_sections_app.py),
and the marked previews a watermarked batch shows.

States are written straight into the catalog, the shape a shot workflow leaves there.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from streamlit.testing.v1 import AppTest

from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from studio.views.gates import pending_gates
from tests.support.projects import write_project
from tests.ui.app_harness import populate_batch, run, texts
from ui.previews import client_thumb, preview

SECTIONS = Path(__file__).with_name("review_sections_app.py")
PROJECT = """
[project]
name = "Ember Studio"
seed = 5
[defaults]
size = "256x256"
variants = 2
upscale = 1
[approval]
required = true
{watermark}
[[shots]]
id = "campfire"
prompt = "a skillet over a campfire at dusk"
[[shots]]
id = "host"
prompt = "a host laughing at the camera"
"""


async def _gated(settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path, *, marked: bool) -> str:
    """Both shots at their gates with two takes each; campfire has a round 2 of edits of take 1."""
    project = PROJECT.format(watermark="watermark = true" if marked else "")
    batch_id = await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", project))
    for shot in catalog.shots(batch_id):
        catalog.update_shot(shot.key, stage="awaiting_approval", final_take_id=None)
    campfire = f"{batch_id}/campfire"
    parent = catalog.take(f"{campfire}/1")
    for take_id in catalog.add_round(campfire, 2, "more sparks", [101, 102]):
        # Take 3 is a targeted edit of take 1; take 4 was drawn again from the prompt.
        edit = {"parent_take_id": parent.id} if take_id.endswith("/3") else {}
        catalog.update_take(take_id, status="reviewed", asset_key=catalog.take(f"{campfire}/2").asset_key, **edit)
    catalog.update_shot(campfire, stage="awaiting_approval")
    return batch_id


def _downloads(at: AppTest) -> list[str]:
    """The labels of the page's download buttons, top to bottom."""
    return [str(getattr(button, "label", "")) for button in at.get("download_button")]


def _app(batch_id: str) -> AppTest:
    at = AppTest.from_file(SECTIONS, default_timeout=30)
    at.query_params["batch"] = batch_id
    return at


async def test_compare_opens_on_demand(app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path) -> None:
    batch_id = await _gated(app_env, catalog, assets, tmp_path, marked=False)
    campfire, host = f"compare-{batch_id}-campfire", f"compare-{batch_id}-host"

    # Folded: one section per shot, and not one image loaded.
    at = await run(_app(batch_id))
    assert [e.label for e in at.expander] == ["Compare takes · before / after · full size"] * 2
    assert not at.image and not at.selectbox and not at.tabs

    # Opened: the newest round's two takes side by side; before / after only where a take has a parent.
    at.session_state[campfire] = True
    at.session_state[host] = True
    await run(at)
    tabs = [tab.label for tab in at.tabs]
    assert tabs == ["Compare", "Before / after", "Full size", "Compare", "Full size"]
    assert [i.captions[0] for i in at.image] == ["Take 3 (round 2)", "Take 4 (round 2)", "Take 1", "Take 2"]
    at.selectbox(key=f"{campfire}-r2-right").select(1)
    await run(at)
    assert [i.captions[0] for i in at.image][:2] == ["Take 3 (round 2)", "Take 1"]  # any round against any

    # Before / after: the edit against the take it was made from, with the split where the slider is.
    at.session_state[f"{campfire}-r2-tabs"] = "Before / after"
    await run(at)
    assert at.slider(key=f"{campfire}-r2-split").value == 50
    assert at.selectbox(key=f"{campfire}-r2-edited").options == ["Take 3 (round 2), made from take 1"]
    assert at.image[0].captions[0] == "Left: take 1 (before) · right: take 3 (after)"
    halfway = at.image[0].value
    at.slider(key=f"{campfire}-r2-split").set_value(80)
    await run(at)
    assert at.image[0].value != halfway  # a media URL is named by its bytes: the picture changed

    # Full size: read only when asked for, in a dialog, at its real size.
    at.session_state[f"{campfire}-r2-tabs"] = "Full size"
    await run(at)
    assert not [i for i in at.image if "pixels" in i.captions[0]]
    at.button(key=f"{campfire}-r2-open").click()
    await run(at)
    assert "Take 3 (round 2) · 256 × 256 pixels" in [i.captions[0] for i in at.image]
    assert "A preview" not in texts(at)


async def test_a_watermarked_batch_shows_marked_images_only(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await _gated(app_env, catalog, assets, tmp_path, marked=True)
    batch = catalog.batch(batch_id)
    assert batch.watermark
    gate = next(g for g in pending_gates(catalog, batch_id=batch_id) if g.shot_id == "host")
    choice = gate.choices[0]
    shown, clean = (
        client_thumb(app_env, catalog, batch, choice, 256),
        preview(app_env, choice.image_key, 256, marked=False),
    )
    assert shown is not None and clean is not None and shown != clean
    assert Image.open(io.BytesIO(shown)).size == Image.open(io.BytesIO(clean)).size

    at = _app(batch_id)
    at.session_state[f"compare-{batch_id}-host"] = True
    at.session_state[f"compare-{batch_id}-host-r1-tabs"] = "Full size"
    await run(at)
    at.button(key=f"compare-{batch_id}-host-r1-open").click()
    await run(at)
    assert "A preview: the clean image can be downloaded once a take is approved." in texts(at)


async def test_downloads_come_with_approval(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await _gated(app_env, catalog, assets, tmp_path, marked=True)

    # Nothing to download before approval.
    at = await run(_app(batch_id))
    assert not at.get("download_button") and "ready to download" not in texts(at)

    # One shot approved: its final, and no zip yet.
    catalog.update_shot(f"{batch_id}/host", stage="published", final_take_id=f"{batch_id}/host/2")
    at = await run(_app(batch_id))
    assert _downloads(at) == ["host (PNG)"]
    assert "1 of 2 shots approved" in texts(at)

    # Every shot approved: one zip of all finals above the finals one by one.
    catalog.update_shot(f"{batch_id}/campfire", stage="publishing", final_take_id=f"{batch_id}/campfire/3")
    at = await run(_app(batch_id))
    assert _downloads(at) == ["Download all finals (zip)", "campfire (PNG)", "host (PNG)"]
