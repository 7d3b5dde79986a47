"""Targeted rework on a real worker: pins on a take, changes requested, and the next round comes back
as edits of that take that leave every pixel outside the pins as it was."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops
from temporalio.client import Client

from pipelines.client.batches import decide, start_batch, wait_batch
from pipelines.messages import Decision
from studio.batches.replay import ReplayRequest, plan_replay
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from studio.views.lineage import lineage_view
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Pinned"
seed = 11
[defaults]
size = "96x64"
variants = 3
upscale = 1
[approval]
required = true
[[shots]]
id = "a"
prompt = "a red lighthouse at dusk"
"""


def gated(catalog: Catalog, batch_id: str) -> bool:
    """Whether the shot waits at its gate (its row is written once the batch plans it)."""
    return [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"]


def _image(assets: AssetStore, key: str | None, mode: str) -> Image.Image:
    assert key is not None
    return Image.open(io.BytesIO(assets.get(key))).convert(mode)


async def test_changes_on_a_pinned_take_render_edits_inside_its_pins(
    worker: None,
    launch,
    client: Client,
    catalog: Catalog,
    assets: AssetStore,
    settings: Settings,
    tmp_path: Path,
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    shot_key = f"{batch_id}/a"
    await eventually(lambda: gated(catalog, batch_id), what="the gate to open")
    parent = catalog.take(f"{shot_key}/2")
    catalog.add_pin(parent.id, x=0.25, y=0.3, radius=0.15, text="more sparks", who="ana")
    catalog.add_pin(parent.id, x=0.7, y=0.6, radius=0.12, text="darker sky", who="ana")
    catalog.add_pin(f"{shot_key}/3", x=0.5, y=0.5, text="gone", who="ana")
    catalog.remove_pin(catalog.pins(take_ids=[f"{shot_key}/3"])[0].id or 0)  # removed: take 3 is no parent

    await decide(client, batch_id, "a", Decision("changes", who="ana", note="warmer light"))
    await eventually(
        lambda: (
            gated(catalog, batch_id)
            and len(catalog.takes(shot_key)) == 6
            and all(t.review_score is not None for t in catalog.takes(shot_key))
        ),
        what="the second round to render and the gate to reopen",
    )

    second = [t for t in catalog.takes(shot_key) if t.round == 2]
    assert len(second) == 3
    before = _image(assets, parent.asset_key, "RGB")
    for take in second:
        assert take.parent_take_id == parent.id and take.init_key == parent.asset_key and take.mask_key
        assert take.params["edit"] == "mask"  # local takes the mask itself
        assert take.prompt == "a red lighthouse at dusk, warmer light, more sparks, darker sky"
        assert take.edit is not None and [p["n"] for p in take.edit["pins"]] == [1, 2]
        mask = _image(assets, take.mask_key, "L")
        after = _image(assets, take.asset_key, "RGB")
        assert mask.size == after.size == before.size
        # Black where nothing may change: keep those pixels of the difference, blank the rest.
        changed = ImageChops.difference(after, before).convert("L")
        outside = ImageChops.multiply(changed, ImageChops.invert(mask.point(lambda v: 255 if v else 0)))
        assert outside.getbbox() is None, "a pixel outside the pins changed"
        inside = [d for d, m in zip(changed.tobytes(), mask.tobytes(), strict=True) if m == 255]
        assert sum(1 for d in inside if d) > len(inside) // 2, "the pinned regions barely changed"
    assert len({t.seed for t in second}) == 3  # three different edits, not one three times

    # `studio show` reads the same: the edit and its pins on the child, the pins on the parent.
    rows = dict(lineage_view(catalog, second[0].id).recipe)
    assert rows["Edit"] == "edit of take 2 inside pins 1, 2 (sent as a mask); note: warmer light"
    assert rows["Mask"] == second[0].mask_key
    assert [p.text for p in catalog.pins(take_ids=[parent.id])] == ["more sparks", "darker sky"]

    # An exact replay of an edit sends the same image, mask and prompt: the same bytes come back.
    replay = plan_replay(settings, catalog, assets, ReplayRequest(second[0].id))
    await start_batch(client, settings, replay.id)
    await wait_batch(client, replay.id)
    (again,) = catalog.batch_takes(replay.id)
    assert (again.init_key, again.mask_key, again.prompt) == (parent.asset_key, second[0].mask_key, second[0].prompt)
    assert again.asset_key == second[0].asset_key and again.params["edit"] == "mask"
