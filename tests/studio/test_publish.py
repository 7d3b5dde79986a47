"""Publishing without Temporal: files carry their recipe (or get a sidecar), the manifest says the
same, the contact sheet is written, and a batch can be unpublished and published again."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from studio.batches.publish import (
    CONTACT_SHEET,
    MANIFEST,
    publish_batch,
    publish_take,
    unpublish_batch,
    write_manifest,
)
from studio.catalog.models import Batch, Publication, Shot, Take
from studio.catalog.store import Catalog
from studio.images.metadata import read_recipe, read_recipe_file, sidecar_path
from studio.images.recipes import take_recipe
from studio.storage.local import LocalAssetStore

BATCH = "lighthouse-abc123"


def _encode(colour: tuple[int, int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(out, fmt)
    return out.getvalue()


def _with_cabx(png: bytes) -> bytes:
    payload = b"\x00\x00\x00\x10jumbc2pa"
    chunk = struct.pack(">I", len(payload)) + b"caBX" + payload + struct.pack(">I", zlib.crc32(b"caBX" + payload))
    return png[:33] + chunk + png[33:]


@pytest.fixture
def studio(tmp_path: Path) -> tuple[Catalog, LocalAssetStore, Path]:
    """A catalog holding one batch of three shots, each with a chosen take: a PNG, a JPEG, and
    a PNG that carries C2PA credentials."""
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    assets = LocalAssetStore(tmp_path / "assets")
    out = tmp_path / "published" / BATCH
    catalog.add_batch(
        Batch(
            id=BATCH,
            project_name="The Lighthouse Keeper",
            project_slug="lighthouse",
            project_source="project.toml",
            project_key="0" * 64 + ".txt",
            seed=99,
            output_dir=str(out),
        )
    )
    images = {
        "s01": (assets.put(_encode((200, 120, 40), "PNG"), "image/png"), 11, "the keeper, at dusk"),
        "s02": (assets.put(_encode((30, 60, 200), "JPEG"), "image/jpeg"), None, 'storm: "wide", low angle\nrain'),
        "s03": (assets.put(_with_cabx(_encode((10, 160, 10), "PNG")), "image/png"), 13, "the lamp"),
    }
    shots, takes = [], []
    for position, (shot_id, (key, seed, prompt)) in enumerate(images.items()):
        shot_key = f"{BATCH}/{shot_id}"
        shots.append(
            Shot(
                key=shot_key,
                batch_id=BATCH,
                shot_id=shot_id,
                position=position,
                prompt=prompt,
                width=96,
                height=64,
                variants=1,
                final_take_id=f"{shot_key}/1",
            )
        )
        takes.append(
            Take(
                id=f"{shot_key}/1",
                batch_id=BATCH,
                shot_key=shot_key,
                number=1,
                status="reviewed",
                seed=seed,
                seed_used=seed,
                provider="local",
                model="local-procedural-v1",
                prompt=prompt,
                negative="text, logo",
                width=96,
                height=64,
                params={"renderer": "procedural", "steps": 4},
                asset_key=key,
            )
        )
    catalog.add_shots(BATCH, shots, takes)
    return catalog, assets, out


def _publish_all(catalog: Catalog, assets: LocalAssetStore) -> list[Path]:
    paths = [publish_take(catalog, assets, shot.key, shot.final_take_id) for shot in catalog.shots(BATCH)]
    write_manifest(catalog, BATCH)
    return paths


def test_published_files_carry_the_manifests_recipe(studio: tuple[Catalog, LocalAssetStore, Path]) -> None:
    catalog, assets, out = studio
    paths = _publish_all(catalog, assets)

    assert [p.name for p in paths] == ["s01.png", "s02.jpg", "s03.png"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["contact_sheet"] == CONTACT_SHEET and (out / CONTACT_SHEET).exists()
    assert [line["shot"] for line in manifest["files"]] == ["s01", "s02", "s03"]
    for line, path in zip(manifest["files"], paths, strict=True):
        assert read_recipe_file(path) == line["recipe"]
        take = catalog.take(line["recipe"]["take_id"])
        shot = catalog.shot(take.shot_key)
        credentials = line["recipe"]["provider_credentials"]
        assert line["recipe"] == take_recipe(take, shot, catalog.batch(BATCH), provider_credentials=credentials)
        assert line["recipe"]["image_sha256"] == take.asset_key.split(".")[0]

    s01, s02, s03 = manifest["files"]
    assert read_recipe(paths[0].read_bytes())["seed"] == 11 and "sidecar" not in s01
    assert read_recipe(paths[1].read_bytes())["prompt"] == 'storm: "wide", low angle\nrain' and "sidecar" not in s02
    # C2PA: the file is exactly what was rendered, and the recipe sits next to it.
    assert paths[2].read_bytes() == assets.get(catalog.take(f"{BATCH}/s03/1").asset_key)
    assert s03["sidecar"] == "s03.png.json"
    assert json.loads(sidecar_path(paths[2]).read_text()) == s03["recipe"]
    assert s03["recipe"]["provider_credentials"] == {
        "asset_key": catalog.take(f"{BATCH}/s03/1").asset_key,
        "carries": "C2PA content credentials",
        "where": "png caBX chunk",
        "in_published_file": True,
    }
    assert s01["recipe"]["provider_credentials"] is None and s01["recipe"]["upscaler"] is None
    with Image.open(out / CONTACT_SHEET) as sheet:
        assert sheet.format == "PNG"


def test_publishing_twice_writes_the_same_bytes_and_one_row(studio: tuple[Catalog, LocalAssetStore, Path]) -> None:
    catalog, assets, _ = studio
    first = {p: p.read_bytes() for p in _publish_all(catalog, assets)}
    second = {p: p.read_bytes() for p in _publish_all(catalog, assets)}
    assert first == second
    assert len(catalog.publications(BATCH)) == 3


def test_unpublish_removes_everything_and_records_it(studio: tuple[Catalog, LocalAssetStore, Path]) -> None:
    catalog, assets, out = studio
    paths = _publish_all(catalog, assets)
    published = {p: p.read_bytes() for p in paths}

    removed = unpublish_batch(catalog, BATCH)

    assert set(removed) == {*paths, sidecar_path(paths[2]), out / MANIFEST, out / CONTACT_SHEET}
    assert not out.exists()
    assert catalog.publications(BATCH) == []
    with catalog.session() as s:
        rows = list(s.exec(select(Publication).where(Publication.batch_id == BATCH)))
    assert len(rows) == 3 and all(row.removed_at is not None for row in rows)
    assert unpublish_batch(catalog, BATCH) == []  # nothing left to do, and no error

    again = publish_batch(catalog, assets, BATCH)

    assert {p: p.read_bytes() for p in again} == published
    assert len(catalog.publications(BATCH)) == 3
    manifest = json.loads((out / MANIFEST).read_text())
    assert [line["file"] for line in manifest["files"]] == ["s01.png", "s02.jpg", "s03.png"]
    assert sidecar_path(again[2]).exists() and (out / CONTACT_SHEET).exists()


def test_a_manifest_of_nothing_has_no_contact_sheet(studio: tuple[Catalog, LocalAssetStore, Path]) -> None:
    catalog, assets, out = studio
    assert publish_batch(catalog, assets, BATCH) == []  # publishes again only what was published
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["files"] == [] and manifest["contact_sheet"] is None
    assert not (out / CONTACT_SHEET).exists()


def test_a_batch_larger_than_a_sheet_gets_numbered_sheets_and_unpublish_removes_them(
    studio: tuple[Catalog, LocalAssetStore, Path],
) -> None:
    catalog, assets, out = studio
    _publish_all(catalog, assets)  # one sheet: three shots fit the default page

    write_manifest(catalog, BATCH, sheet_page=2)

    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["contact_sheets"] == ["contact_sheet-01.png", "contact_sheet-02.png"]
    assert manifest["contact_sheet"] == "contact_sheet-01.png"
    assert all((out / name).is_file() for name in manifest["contact_sheets"])
    assert not (out / CONTACT_SHEET).exists(), "the one-page sheet of before is not left behind"

    removed = unpublish_batch(catalog, BATCH)

    assert {out / "contact_sheet-01.png", out / "contact_sheet-02.png"} <= set(removed)
    assert not out.exists()


def test_fewer_shots_published_leave_no_stale_sheet_pages(studio: tuple[Catalog, LocalAssetStore, Path]) -> None:
    catalog, assets, out = studio
    _publish_all(catalog, assets)
    write_manifest(catalog, BATCH, sheet_page=1)
    assert sorted(p.name for p in out.glob("contact_sheet*")) == [f"contact_sheet-0{n}.png" for n in (1, 2, 3)]

    write_manifest(catalog, BATCH, sheet_page=2)

    assert sorted(p.name for p in out.glob("contact_sheet*")) == ["contact_sheet-01.png", "contact_sheet-02.png"]
