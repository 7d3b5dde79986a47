"""The client's review page through AppTest, state by state, and the signature that keeps it live.

The states are written straight into the catalog (the shape a shot workflow leaves there), so
each one can be looked at without racing a worker: waiting, working on changes, two rounds.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio.catalog.models import Approval
from studio.catalog.store import Catalog
from studio.review.sharing import share_url
from studio.settings import Settings
from studio.storage.local import AssetStore
from studio.views.gates import gate_signature, reworks
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, populate_batch, run, texts

PROJECT = """
[project]
name = "Ember Studio"
seed = 5
[defaults]
size = "256x256"
variants = 2
upscale = 1
[[shots]]
id = "campfire"
prompt = "a skillet over a campfire at dusk"
[[shots]]
id = "host"
prompt = "a host laughing at the camera"
"""


async def _gated_batch(settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path) -> str:
    """A batch whose two shots wait at their gates with two imaged takes each."""
    batch_id = await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    for shot in catalog.shots(batch_id):
        catalog.update_shot(shot.key, stage="awaiting_approval", final_take_id=None)
    return batch_id


def _folded(at: AppTest) -> list[str]:
    """The labels of the folded older rounds (each gate also has its compare expander)."""
    return [e.label for e in at.expander if not e.label.startswith("Compare")]


def _ask_changes(catalog: Catalog, batch_id: str, shot_key: str, note: str, round_: int = 1) -> None:
    catalog.add_approval(
        Approval(shot_key=shot_key, batch_id=batch_id, round=round_, decision="changes", who="client", note=note)
    )


def _second_round(catalog: Catalog, assets: AssetStore, shot_key: str, note: str) -> None:
    """What a rework leaves: round 2's takes rendered, then the gate reopened."""
    for take_id in catalog.add_round(shot_key, 2, note, [101, 102]):
        catalog.update_take(take_id, status="reviewed", asset_key=catalog.take(f"{shot_key}/1").asset_key)
    catalog.update_shot(shot_key, stage="awaiting_approval")


async def test_client_page_states(app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path) -> None:
    batch_id = await _gated_batch(app_env, catalog, assets, tmp_path)
    token = share_url(app_env, batch_id).split("share=", 1)[1]
    campfire = f"{batch_id}/campfire"

    # Waiting: both shots, their first takes under one label, nothing folded.
    at = await run(new_app(share=token))
    assert "2 shots waiting for you." in texts(at)
    assert [s.value for s in at.subheader] == ["campfire", "host"]
    assert texts(at).count("**First takes**") == 2 and not _folded(at)
    assert [i.captions[0] for i in at.image] == ["Take 1", "Take 2", "Take 1", "Take 2"]
    assert not at.button(key="changes-campfire").disabled  # works on the first click, note or not

    # An empty note is refused with one warning, and nothing is recorded.
    at.button(key="changes-campfire").click()
    await run(at)
    assert [w.value for w in at.warning] == ["Write what should change, or pin a note on a take, first."]
    assert catalog.approvals(batch_id=batch_id) == []

    # Working on changes: the answered shot says so, the other still waits.
    _ask_changes(catalog, batch_id, campfire, "more sparks")
    assert [r.shot_id for r in reworks(catalog, batch_id=batch_id)] == ["campfire"]
    at = await run(new_app(share=token))
    assert "We are working on your changes to campfire…" in texts(at)
    assert "You asked: more sparks" in texts(at) and "1 shot waiting for you." in texts(at)
    assert [s.value for s in at.subheader] == ["campfire", "host"]  # storyboard order either way
    assert not [b for b in at.button if (b.key or "").startswith("approve-campfire-")]

    # Nothing but reworks: no "Nothing is waiting" while the client's changes are being made.
    _ask_changes(catalog, batch_id, f"{batch_id}/host", "warmer light")
    at = await run(new_app(share=token))
    assert "We are working on your changes to host…" in texts(at)
    assert "Nothing is waiting" not in texts(at)

    # The new round: newest first and open, the first takes folded under their label.
    _second_round(catalog, assets, campfire, "more sparks")
    assert [r.shot_id for r in reworks(catalog, batch_id=batch_id)] == ["host"]
    at = await run(new_app(share=token))
    assert "**Round 2 — you asked: more sparks**" in texts(at)
    assert _folded(at) == ["First takes"]
    assert [i.captions[0] for i in at.image] == ["Take 3", "Take 4", "Take 1", "Take 2"]
    assert at.button(key="approve-campfire-1") and at.button(key="approve-campfire-4")
    assert at.text_area(key="note-campfire-round2").value == ""  # each round starts with an empty note


async def test_client_page_keeps_a_typed_note_across_a_redraw(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await _gated_batch(app_env, catalog, assets, tmp_path)
    at = await run(new_app(share=share_url(app_env, batch_id).split("share=", 1)[1]))
    at.text_area(key="note-host").set_value("a wider shot")
    await run(at)
    # campfire's new round arrives; the page redraws with campfire's two rounds above host.
    _ask_changes(catalog, batch_id, f"{batch_id}/campfire", "more sparks")
    _second_round(catalog, assets, f"{batch_id}/campfire", "more sparks")
    await run(at)
    assert at.text_area(key="note-host").value == "a wider shot"
    assert "Round 2 — you asked: more sparks" in texts(at)


async def test_gate_signature_changes_with_what_the_pages_show(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = await _gated_batch(settings, catalog, assets, tmp_path)
    campfire = f"{batch_id}/campfire"
    seen = [gate_signature(catalog, batch_id=batch_id), gate_signature(catalog)]
    assert seen == [gate_signature(catalog, batch_id=batch_id), gate_signature(catalog)]  # idle: unchanged
    assert len(seen[0]) == 2 and len(seen[1]) == 2

    def changed() -> bool:
        nonlocal seen
        now = [gate_signature(catalog, batch_id=batch_id), gate_signature(catalog)]
        moved, seen = now[0] != seen[0] and now[1] != seen[1], now
        return moved

    _ask_changes(catalog, batch_id, campfire, "more sparks")
    assert changed()  # a decision made elsewhere
    for take_id in catalog.add_round(campfire, 2, "more sparks", [101, 102]):
        catalog.update_take(take_id, status="reviewed", asset_key=catalog.take(f"{campfire}/1").asset_key)
        assert not changed()  # a rework's takes render without redrawing anyone's page
    catalog.update_shot(campfire, stage="awaiting_approval")
    assert changed()  # the new round opens the gate again
    catalog.update_shot(campfire, stage="published")
    assert changed()  # and a gate that closes
    assert [row[0] for row in gate_signature(catalog)] == [f"{batch_id}/host"]
