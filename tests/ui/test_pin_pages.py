"""The owner's pages show a client's pins: the take's image with them drawn, and the numbered notes."""

from __future__ import annotations

from pathlib import Path

from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import AssetStore
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, populate_batch, run, texts

TWO_TAKES = """
[project]
name = "Pinned Kites"
seed = 5
[defaults]
size = "256x144"
variants = 2
upscale = 1
[[shots]]
id = "kite"
prompt = "a red kite over a green hill"
[[shots]]
id = "hill"
prompt = "a green hill at dusk"
"""


async def _batch_with_pins(settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path) -> str:
    batch_id = await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", TWO_TAKES))
    take = f"{batch_id}/kite/2"
    catalog.add_pin(take, x=0.3, y=0.4, text="warmer sky here", who="Ann Lee", email="ann@example.com")
    catalog.add_pin(take, x=0.7, y=0.6, radius=0.05, text="lose the [logo](http://x.test) *now*", who="Bo")
    removed = catalog.add_pin(f"{batch_id}/kite/1", x=0.5, y=0.5, text="never mind this one")
    assert removed.id is not None
    catalog.remove_pin(removed.id)
    return batch_id


async def test_shot_page_lists_a_takes_pins_under_its_image(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await _batch_with_pins(app_env, catalog, assets, tmp_path)
    at = await run(new_app("app_pages/shot.py", shot=f"{batch_id}/kite"))
    # The tab tells which take carries pins; a removed pin counts for nothing.
    assert [tab.label for tab in at.tabs] == ["Take 1 ★", "Take 2 · 2 pins"]
    take_two = at.tabs[1]
    notes = [m.value for m in take_two.markdown if ":red-badge[" in m.value]
    assert notes[0] == ":red-badge[1] warmer sky here"
    # The client's words are shown as written: no link, no emphasis.
    assert notes[1] == r":red-badge[2] lose the \[logo\]\(http\://x.test\) \*now\*"
    who = [c.value for c in take_two.caption]
    assert any(line.startswith("Ann Lee · ann@example.com · 20") for line in who), who
    assert any(line.startswith("Bo · 20") for line in who), who  # no email given, none shown
    assert "never mind this one" not in texts(at)
    assert not [m for m in at.tabs[0].markdown if ":red-badge[" in m.value]


async def test_approvals_page_shows_the_pins_of_a_take_at_its_gate(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await _batch_with_pins(app_env, catalog, assets, tmp_path)
    for shot in ("kite", "hill"):
        catalog.update_shot(f"{batch_id}/{shot}", stage="awaiting_approval", final_take_id=None)
    at = await run(new_app("app_pages/approvals.py"))
    shown = texts(at)
    assert "warmer sky here" in shown and "never mind this one" not in shown
    assert any(c.value.startswith("Ann Lee · ann@example.com · ") for c in at.caption)
    # The note box is still there, once per gate, below the pins.
    assert {t.key for t in at.text_input} == {f"note-{batch_id}/kite", f"note-{batch_id}/hill"}

    # A pin placed on the other shot shows up on the next draw; one taken off goes.
    pin = catalog.add_pin(f"{batch_id}/hill/1", x=0.2, y=0.2, text="brighter moon")
    (first,) = [p for p in catalog.pins(take_ids=[f"{batch_id}/kite/2"]) if p.number == 1]
    assert first.id is not None and pin.id is not None
    catalog.remove_pin(first.id)
    at = await run(at)
    shown = texts(at)
    assert "brighter moon" in shown and "warmer sky here" not in shown
