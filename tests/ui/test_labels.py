"""Dashboard labels that must agree with what happened and with the CLI: a skipped upscale, a
cost of nothing, the take a Shot page opens on, and who renders when keys are missing."""

from __future__ import annotations

from pathlib import Path

from streamlit.proto.Block_pb2 import Block as BlockProto
from streamlit.testing.v1 import AppTest

from studio.catalog.store import Catalog
from studio.settings import Settings
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, populate_batch, run, texts

NO_UPSCALE = """
[project]
name = "Flat Kites"
seed = 3
[defaults]
size = "64x64"
variants = 2
upscale = 1
[[shots]]
id = "kite"
prompt = "a red kite over a green hill"
"""


def progress_texts(at: AppTest) -> list[str]:
    return [str(bar.proto.text) for bar in at.progress]


async def test_a_skipped_upscale_is_not_shown_as_done(
    app_env: Settings, catalog: Catalog, assets, tmp_path: Path
) -> None:
    batch_id = await populate_batch(app_env, catalog, assets, write_project(tmp_path / "p", NO_UPSCALE))

    at = await run(new_app())  # Batches: the ended batch's stages in one line, no bars
    assert progress_texts(at) == []
    # Not "upscale 2/2" (it was): no shot asked for an upscale.
    assert "render 2/2 · upscale: skipped (no shot upscales) · review 2/2 · publish 1/1" in texts(at)
    # The same words as `studio status` (tests/studio/test_cli_output.py): $0.00, not a dash.
    assert "Cost **$0.00**" in texts(at)

    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    assert progress_texts(at) == ["render 2/2", "review 2/2", "publish 1/1"]
    assert "upscale: skipped (no shot upscales)" in texts(at)
    assert [m.value for m in at.metric if m.label == "Cost"] == ["$0.00"]

    twice = write_project(tmp_path / "up", NO_UPSCALE.replace("upscale = 1", "upscale = 2"))
    upscaled = await populate_batch(app_env, catalog, assets, twice)
    at = await run(new_app("app_pages/batch.py", batch=upscaled))
    assert "upscale 2/2" in progress_texts(at) and "skipped" not in texts(at)


def open_tab(at: AppTest) -> str:
    """The label of the tab a browser shows first (the tab container's default)."""
    (container,) = [
        node
        for node in at._tree  # AppTest has no accessor for the tab container itself
        if isinstance(getattr(node, "proto", None), BlockProto) and node.proto.HasField("tab_container")
    ]
    labels = [tab.label for tab in at.tabs]
    return labels[container.proto.tab_container.default_tab_index]


async def test_shot_page_opens_on_the_published_take(
    app_env: Settings, catalog: Catalog, assets, tmp_path: Path
) -> None:
    project = write_project(tmp_path / "p", NO_UPSCALE.replace("variants = 2", "variants = 3"))
    batch_id = await populate_batch(app_env, catalog, assets, project)
    shot_key = f"{batch_id}/kite"
    catalog.update_shot(shot_key, final_take_id=f"{shot_key}/3")

    at = await run(new_app("app_pages/shot.py", shot=shot_key))
    assert [tab.label for tab in at.tabs] == ["Take 1", "Take 2", "Take 3 ★"]
    assert open_tab(at) == "Take 3 ★"  # was "Take 1"

    # Nothing published yet but a take approved at the gate: that one.
    catalog.update_shot(shot_key, final_take_id=None)
    for n, status in ((1, "rejected"), (2, "approved"), (3, "reviewed")):
        catalog.update_take(f"{shot_key}/{n}", status=status)
    at = await run(new_app("app_pages/shot.py", shot=shot_key))
    assert open_tab(at) == "Take 2"


async def test_launch_page_says_who_renders_without_keys(app_env: Settings) -> None:
    at = await run(new_app("app_pages/launch.py"))
    at.selectbox(key="launch-sample").set_value("thumbnail-pack")  # asks for gemini -> replicate -> fal
    await run(at)
    assert [i.value for i in at.info] == [
        "Rendering on local (procedural preview): no key for gemini (GEMINI_API_KEY), "
        "replicate (REPLICATE_API_TOKEN), fal (FAL_KEY)."
    ]
