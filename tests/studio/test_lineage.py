"""Lineage and search over catalog rows written directly (no Temporal): parent chains, a parent
made elsewhere, a looping chain, children as a tree, every `find` filter, and the provider's
signed original that `studio show` names."""

from __future__ import annotations

import io
import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.batches.lineage import find_takes, lineage_json, take_lineage
from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.errors import NotFound
from studio.settings import load_settings
from studio.storage.local import LocalAssetStore
from studio.views.lineage import lineage_view

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _batch(catalog: Catalog, batch_id: str) -> None:
    catalog.add_batch(
        Batch(
            id=batch_id,
            project_name=batch_id,
            project_slug=batch_id,
            project_source="p.toml",
            project_key="0" * 64 + ".txt",
            seed=1,
            output_dir=f"/tmp/{batch_id}",
        )
    )


def _take(catalog: Catalog, take_id: str, *, minutes: int = 0, **fields: Any) -> Take:
    """Write one take (and its shot, once) and return it; ``minutes`` after T0 orders them."""
    batch_id, shot_id, number = take_id.split("/")
    shot_key = f"{batch_id}/{shot_id}"
    values: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "width": 64,
        "height": 64,
        "status": "reviewed",
        "provider": "local",
        "model": "local-procedural-v1",
        "seed": 7,
        "seed_used": 7,
        "reproducible": True,
    }
    values.update(fields)
    take = Take(
        id=take_id,
        batch_id=batch_id,
        shot_key=shot_key,
        number=int(number),
        created_at=T0 + timedelta(minutes=minutes),
        **values,
    )
    shot = Shot(
        key=shot_key,
        batch_id=batch_id,
        shot_id=shot_id,
        position=0,
        prompt=take.prompt,
        width=64,
        height=64,
        variants=1,
    )
    catalog.add_shots(batch_id, [shot], [take])
    return take


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    for batch_id in ("orig-aaaaaa", "replay-bbbbbb", "other-cccccc"):
        _batch(catalog, batch_id)
    return catalog


def _family(catalog: Catalog) -> None:
    """root ← child ← grandchild, root ← sibling; an unrelated take alongside."""
    _take(catalog, "orig-aaaaaa/s01/1", minutes=0)
    _take(catalog, "replay-bbbbbb/s01/1", minutes=1, parent_take_id="orig-aaaaaa/s01/1", seed_used=8, seed=8)
    _take(catalog, "replay-bbbbbb/s01/2", minutes=2, parent_take_id="orig-aaaaaa/s01/1", seed_used=9, seed=9)
    _take(
        catalog,
        "replay-bbbbbb/s02/1",
        minutes=3,
        parent_take_id="replay-bbbbbb/s01/1",
        init_key="ab" * 32 + ".png",
        strength=0.5,
    )
    _take(catalog, "other-cccccc/s01/1", minutes=4, prompt="a kite")


def test_parent_chain_runs_to_the_root(catalog: Catalog) -> None:
    _family(catalog)
    lineage = take_lineage(catalog, "replay-bbbbbb/s02/1")
    assert [p.id for p in lineage.parents] == ["replay-bbbbbb/s01/1", "orig-aaaaaa/s01/1"]
    assert lineage.missing_parent is None and lineage.cycle_at is None
    assert lineage.recipe["take_id"] == "replay-bbbbbb/s02/1"
    assert lineage.recipe["parent_take_id"] == "replay-bbbbbb/s01/1"
    data = lineage_json(lineage)
    assert data["chain_end"] == "root" and data["take"]["strength"] == 0.5 and data["children"] == []


def test_children_form_a_tree(catalog: Catalog) -> None:
    _family(catalog)
    lineage = take_lineage(catalog, "orig-aaaaaa/s01/1")
    assert lineage.parents == () and lineage.missing_parent is None
    assert [n.take.id for n in lineage.children] == ["replay-bbbbbb/s01/1", "replay-bbbbbb/s01/2"]
    assert [n.take.id for n in lineage.children[0].children] == ["replay-bbbbbb/s02/1"]
    assert lineage.children[1].children == ()
    assert lineage.descendants == 3 and not lineage.truncated
    data = lineage_json(lineage)
    assert data["descendants"] == 3
    assert data["children"][0]["children"][0]["take"] == "replay-bbbbbb/s02/1"


def test_descendants_are_capped(catalog: Catalog) -> None:
    _take(catalog, "orig-aaaaaa/s01/1")
    for n in range(1, 6):
        _take(catalog, f"replay-bbbbbb/s01/{n}", minutes=n, parent_take_id="orig-aaaaaa/s01/1")
    lineage = take_lineage(catalog, "orig-aaaaaa/s01/1", max_descendants=3)
    assert lineage.descendants == 3 and lineage.truncated


def test_a_parent_made_elsewhere_stops_the_chain(catalog: Catalog) -> None:
    # Replayed from a file another studio published: its take id is not in this catalog.
    _take(catalog, "orig-aaaaaa/s01/1", parent_take_id="faraway-123456/s09/3")
    _take(catalog, "replay-bbbbbb/s01/1", minutes=1, parent_take_id="orig-aaaaaa/s01/1")
    lineage = take_lineage(catalog, "replay-bbbbbb/s01/1")
    assert [p.id for p in lineage.parents] == ["orig-aaaaaa/s01/1"]
    assert lineage.missing_parent == "faraway-123456/s09/3"
    data = lineage_json(lineage)
    assert data["chain_end"] == "not_in_catalog" and data["missing_parent"] == "faraway-123456/s09/3"


def test_a_looping_chain_stops_instead_of_spinning(catalog: Catalog) -> None:
    # Never written by the studio, but a hand-edited or corrupt catalog must not hang `studio show`.
    _take(catalog, "orig-aaaaaa/s01/1", parent_take_id="orig-aaaaaa/s01/3")
    _take(catalog, "orig-aaaaaa/s01/2", parent_take_id="orig-aaaaaa/s01/1")
    _take(catalog, "orig-aaaaaa/s01/3", parent_take_id="orig-aaaaaa/s01/2")
    lineage = take_lineage(catalog, "orig-aaaaaa/s01/1")
    assert [p.id for p in lineage.parents] == ["orig-aaaaaa/s01/3", "orig-aaaaaa/s01/2"]
    assert lineage.cycle_at == "orig-aaaaaa/s01/1" and lineage.missing_parent is None
    assert [n.take.id for n in lineage.children] == ["orig-aaaaaa/s01/2"]
    assert [n.take.id for n in lineage.children[0].children] == ["orig-aaaaaa/s01/3"]
    assert lineage.children[0].children[0].children == ()  # the loop back to the root is cut
    assert lineage_json(lineage)["chain_end"] == "cycle"

    _take(catalog, "other-cccccc/s01/1", parent_take_id="other-cccccc/s01/1")  # its own parent
    selfish = take_lineage(catalog, "other-cccccc/s01/1")
    assert selfish.parents == () and selfish.cycle_at == "other-cccccc/s01/1" and selfish.children == ()


def test_unknown_take_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound, match="no take 'nope/s01/1'"):
        take_lineage(catalog, "nope/s01/1")


def _ids(takes: list[Take]) -> list[str]:
    return [t.id for t in takes]


def test_find_filters(catalog: Catalog) -> None:
    """Find filters takes by prompt words, provider, seed, batch and approval, with a limit.

    Long because each filter is one query and one expected set on the same catalog.
    """
    _take(catalog, "orig-aaaaaa/s01/1", minutes=0, prompt="A LightHouse at dusk", status="approved")
    _take(catalog, "orig-aaaaaa/s01/2", minutes=1, prompt="lighthouse, 100% storm_front", seed=11, seed_used=11)
    _take(
        catalog,
        "orig-aaaaaa/s02/1",
        minutes=2,
        prompt="a kite",
        provider="mistral",
        seed=12,
        seed_used=None,
        reproducible=False,
    )
    _take(
        catalog,
        "replay-bbbbbb/s01/1",
        minutes=3,
        prompt="a lighthouse",
        provider="gemini",
        seed=13,
        seed_used=99,
        status="approved",
    )
    _take(
        catalog,
        "other-cccccc/s01/1",
        minutes=4,
        prompt="a boat",
        provider=None,
        seed=14,
        seed_used=None,
        status="planned",
    )

    newest_first = [
        "other-cccccc/s01/1",
        "replay-bbbbbb/s01/1",
        "orig-aaaaaa/s02/1",
        "orig-aaaaaa/s01/2",
        "orig-aaaaaa/s01/1",
    ]
    assert _ids(find_takes(catalog)) == newest_first
    assert _ids(find_takes(catalog, limit=2)) == newest_first[:2]
    # Case-insensitive substring; LIKE wildcards in the text match only themselves.
    assert _ids(find_takes(catalog, prompt="LIGHTHOUSE")) == [
        "replay-bbbbbb/s01/1",
        "orig-aaaaaa/s01/2",
        "orig-aaaaaa/s01/1",
    ]
    assert _ids(find_takes(catalog, prompt="100%")) == ["orig-aaaaaa/s01/2"]
    assert _ids(find_takes(catalog, prompt="storm_front")) == ["orig-aaaaaa/s01/2"]
    assert find_takes(catalog, prompt="0%s") == [] and find_takes(catalog, prompt="a_k") == []  # not "a kite"
    # A seed matches the seed used or the seed planned.
    assert _ids(find_takes(catalog, seed=11)) == ["orig-aaaaaa/s01/2"]
    assert _ids(find_takes(catalog, seed=12)) == ["orig-aaaaaa/s02/1"]
    assert _ids(find_takes(catalog, seed=99)) == ["replay-bbbbbb/s01/1"]
    assert _ids(find_takes(catalog, seed=13)) == ["replay-bbbbbb/s01/1"]
    assert _ids(find_takes(catalog, seed=14)) == ["other-cccccc/s01/1"]
    assert find_takes(catalog, seed=1234) == []
    assert _ids(find_takes(catalog, provider="mistral")) == ["orig-aaaaaa/s02/1"]
    assert _ids(find_takes(catalog, approved=True)) == ["replay-bbbbbb/s01/1", "orig-aaaaaa/s01/1"]
    assert _ids(find_takes(catalog, batch="orig-aaaaaa")) == newest_first[2:]
    # Filters combine.
    assert _ids(find_takes(catalog, prompt="lighthouse", approved=True, batch="orig-aaaaaa")) == ["orig-aaaaaa/s01/1"]
    assert find_takes(catalog, prompt="lighthouse", provider="mistral") == []
    with pytest.raises(ValueError, match="limit"):
        find_takes(catalog, limit=0)


# -- the provider's signed original -----------------------------------------------------------


def _signed_png() -> bytes:
    """A PNG carrying a C2PA manifest store chunk (caBX), as a vendor that signs its images sends it."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 40, 60)).save(out, "PNG")
    png, payload = out.getvalue(), b"\x00\x00\x00\x10jumbc2pa"
    chunk = struct.pack(">I", len(payload)) + b"caBX" + payload + struct.pack(">I", zlib.crc32(b"caBX" + payload))
    return png[:33] + chunk + png[33:]


def _upscaled_signed_take(catalog: Catalog, assets: LocalAssetStore) -> Take:
    out = io.BytesIO()
    Image.new("RGB", (128, 128), (20, 40, 60)).save(out, "PNG")
    return _take(
        catalog,
        "orig-aaaaaa/s01/1",
        provider="gemini",
        model="gemini-2.5-flash-image",
        asset_key=assets.put(_signed_png(), "image/png"),
        final_key=assets.put(out.getvalue(), "image/png"),
    )


def test_show_names_the_signed_original_an_upscale_left_behind(tmp_path: Path, catalog: Catalog) -> None:
    assets = LocalAssetStore(tmp_path / "assets")
    take = _upscaled_signed_take(catalog, assets)

    lineage = take_lineage(catalog, take.id, assets=assets)

    expected = {
        "asset_key": take.asset_key,
        "carries": "C2PA content credentials",
        "where": "png caBX chunk",
        "in_published_file": False,
    }
    assert lineage.provider_credentials == expected and lineage.credentials_unknown is None
    assert lineage_json(lineage)["take"]["provider_credentials"] == expected
    assert take_lineage(catalog, take.id).provider_credentials is None  # the store was not read
    rows = dict(lineage_view(catalog, take.id, assets=assets).recipe)  # the Shot page's recipe table
    assert rows["Content credentials"] == (
        f"C2PA content credentials (png caBX chunk) in the provider's original only, "
        f"kept in the asset store as {take.asset_key}"
    )

    (tmp_path / "assets" / take.asset_key[:2] / take.asset_key).unlink()
    gone = take_lineage(catalog, take.id, assets=assets)
    assert gone.provider_credentials is None and gone.credentials_unknown == "the render is not in the asset store"


def test_studio_show_prints_where_the_signed_original_is(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from studio.cli import main

    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))  # the catalog fixture's file is <home>/catalog.db
    for name in ("DATABASE_URL", "STUDIO_ASSETS", "STUDIO_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.catalog_url == f"sqlite:///{tmp_path / 'catalog.db'}"
    take = _upscaled_signed_take(catalog, LocalAssetStore(settings.assets_dir))

    assert main(["show", take.id]) == 0
    printed = "".join(capsys.readouterr().out.split())  # rich folds long values: compare without spaces
    assert "C2PAcontentcredentials(pngcaBXchunk)intheprovider'soriginalonly" in printed
    assert f"keptintheassetstoreas{take.asset_key}" in printed

    assert main(["show", take.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["take"]
    assert shown["provider_credentials"]["asset_key"] == take.asset_key and shown["credentials_unknown"] is None
