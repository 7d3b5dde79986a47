"""What a client takes away: the zip of approved finals with their recipes, the marked previews,
the before/after view, and the project option that asks for marks."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.images.before_after import before_after
from studio.project.loader import load_project
from studio.project.storyboard import storyboard_rows
from studio.review.deliverables import all_approved, approved_finals, finals_zip, watermark
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import write_project

PROJECT = """
[project]
name = "Ember Studio"
seed = 5
[defaults]
size = "64x64"
variants = 2
upscale = 1
[approval]
required = true
watermark = true
[[shots]]
id = "campfire"
prompt = "a skillet over a campfire"
[[shots]]
id = "host"
prompt = "a host laughing"
"""


def _image(colour: tuple[int, int, int], fmt: str = "PNG", size: tuple[int, int] = (64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def _batch(settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path) -> str:
    """Two shots at their gates, each take with its own flat-coloured image."""
    batch, project = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    shots, takes = storyboard_rows(project, batch.id, batch.seed, lambda _requested: ["local"])
    catalog.add_shots(batch.id, shots, takes)
    for n, take in enumerate(takes):
        key = assets.put(_image((40 * n, 90, 160)), "image/png")
        catalog.update_take(take.id, status="reviewed", provider="local", seed_used=take.seed, asset_key=key)
    for shot in shots:
        catalog.update_shot(shot.key, stage="awaiting_approval")
    return batch.id


def test_the_option_lands_on_the_batch(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    assert load_project(write_project(tmp_path / "p", PROJECT)).approval.watermark is True
    assert catalog.batch(_batch(settings, catalog, assets, tmp_path)).watermark is True
    plain = write_project(tmp_path / "plain", PROJECT.replace("watermark = true\n", ""))
    assert load_project(plain).approval.watermark is False
    assert prepare_batch(settings, catalog, assets, plain)[0].watermark is False


def test_zip_holds_only_approved_finals_with_their_recipes(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = _batch(settings, catalog, assets, tmp_path)
    campfire, host = (f"{batch_id}/campfire", f"{batch_id}/host")
    assert approved_finals(catalog, batch_id) == [] and not all_approved(catalog, batch_id)
    assert zipfile.ZipFile(io.BytesIO(finals_zip(catalog, assets, batch_id))).namelist() == []

    # campfire's take 2 is approved and upscaled: the zip carries the upscale, not the render.
    upscaled = assets.put(_image((250, 10, 10), size=(128, 128)), "image/png")
    catalog.update_take(f"{campfire}/2", status="approved", final_key=upscaled)
    catalog.update_shot(campfire, stage="published", final_take_id=f"{campfire}/2")
    archive = zipfile.ZipFile(io.BytesIO(finals_zip(catalog, assets, batch_id)))
    assert archive.namelist() == ["campfire.png", "campfire.json"]
    assert archive.read("campfire.png") == assets.get(upscaled)
    recipe = json.loads(archive.read("campfire.json"))
    assert (recipe["take_id"], recipe["shot_id"], recipe["project"]) == (f"{campfire}/2", "campfire", "Ember Studio")
    assert recipe["prompt"] == "a skillet over a campfire" and recipe["final_key"] == upscaled
    assert not all_approved(catalog, batch_id)

    catalog.update_shot(host, stage="publishing", final_take_id=f"{host}/1")
    assert all_approved(catalog, batch_id)
    names = zipfile.ZipFile(io.BytesIO(finals_zip(catalog, assets, batch_id))).namelist()
    assert names == ["campfire.png", "campfire.json", "host.png", "host.json"]
    assert [f.take_id for f in approved_finals(catalog, batch_id)] == [f"{campfire}/2", f"{host}/1"]


def test_a_rejected_shot_gives_nothing(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch_id = _batch(settings, catalog, assets, tmp_path)
    catalog.update_shot(f"{batch_id}/host", stage="rejected")
    catalog.update_shot(f"{batch_id}/campfire", stage="published", final_take_id=f"{batch_id}/campfire/1")
    assert [f.shot_id for f in approved_finals(catalog, batch_id)] == ["campfire"]
    assert not all_approved(catalog, batch_id)


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "RGB"), ("JPEG", "RGB"), ("WEBP", "RGB"), ("PNG", "RGBA")])
def test_watermark_keeps_size_and_format_and_marks_the_pixels(fmt: str, mode: str) -> None:
    out = io.BytesIO()
    Image.new(mode, (320, 180), (30, 60, 90, 255)[: len(mode)]).save(out, fmt)
    original = out.getvalue()
    marked = Image.open(io.BytesIO(watermark(original, "PREVIEW")))
    assert marked.format == fmt and marked.size == (320, 180)
    assert marked.mode == ("RGBA" if mode == "RGBA" and fmt == "PNG" else "RGB")
    before = Image.open(io.BytesIO(original)).convert("RGB")
    changed = ImageChops.difference(before, marked.convert("RGB")).convert("L").point(lambda v: 255 if v > 40 else 0)
    # Marked across the picture, not in one corner: every quarter has changed pixels.
    for left, top in [(0, 0), (160, 0), (0, 90), (160, 90)]:
        assert changed.crop((left, top, left + 160, top + 90)).getbbox() is not None
    # Yet the picture shows through: most pixels are untouched.
    histogram = changed.histogram()
    assert histogram[255] < histogram[0]


def test_before_after_puts_the_parent_left_of_the_line() -> None:
    before, after = _image((200, 0, 0), size=(32, 32)), _image((0, 0, 200), size=(64, 64))
    view = Image.open(io.BytesIO(before_after(before, after, 0.25))).convert("RGB")
    assert view.size == (64, 64)  # the new take's size; the parent is scaled to it
    red, blue = view.getpixel((4, 32)), view.getpixel((60, 32))
    assert isinstance(red, tuple) and isinstance(blue, tuple)
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]
    line = view.getpixel((16, 32))  # a quarter of the way across
    assert isinstance(line, tuple) and min(line) > 200  # a light divider
    everything_after = Image.open(io.BytesIO(before_after(before, after, 0.0))).convert("RGB")
    right = everything_after.getpixel((40, 32))
    assert isinstance(right, tuple) and right[2] > 150
