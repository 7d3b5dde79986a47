"""The Batch page reads one page of its grid, and the manifest streams: a large batch shows and
publishes the same things a small one did when everything was read at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from studio.batches import publish
from studio.batches.publish import write_manifest
from studio.catalog.models import Batch, ProviderAttempt, Publication, Shot, Take
from studio.catalog.store import Catalog
from studio.states import ShotStage, TakeStatus
from studio.views.batches import SHOT_FILTERS, shot_cards, shot_filter_counts

BATCH = "grid-1"
SHOTS = 40
# Shot n's stage, by n % 8 (the rest published): both kinds of human wait, rejected and failed.
STAGES = {1: ShotStage.AWAITING_APPROVAL, 2: ShotStage.AWAITING_BUDGET, 3: ShotStage.REJECTED, 4: ShotStage.FAILED}


def _shot_id(position: int) -> str:
    # Positions run backwards against ids (s039 first): storyboard order is not key order.
    return f"s{SHOTS - 1 - position:03d}"


def _position(shot_id: str) -> int:
    return SHOTS - 1 - int(shot_id[1:])


def _batch(catalog: Catalog, out: Path) -> None:
    """Shot n (storyboard position) has n % 3 + 1 takes; take 1 of every 5th shot failed; the takes of
    every 4th shot failed over from gemini (called twice) to local."""
    catalog.add_batch(
        Batch(
            id=BATCH,
            project_name="Grid",
            project_slug="grid",
            project_source="p.toml",
            project_key="k",
            seed=7,
            output_dir=str(out),
        )
    )
    shots, takes = [], []
    for n in range(SHOTS):
        key = f"{BATCH}/{_shot_id(n)}"
        shots.append(
            Shot(
                key=key, batch_id=BATCH, shot_id=_shot_id(n), position=n, prompt=f"p{n}", width=8, height=8, variants=3
            )
        )
        for number in range(1, n % 3 + 2):
            takes.append(
                Take(id=f"{key}/{number}", batch_id=BATCH, shot_key=key, number=number, prompt="x", width=8, height=8)
            )
    catalog.add_shots(BATCH, shots, takes)
    for n, shot in enumerate(shots):
        stage = STAGES.get(n % 8, ShotStage.PUBLISHED)
        catalog.update_shot(
            shot.key, stage=stage, final_take_id=f"{shot.key}/1" if stage == ShotStage.PUBLISHED else None
        )
    with catalog.session() as s:
        for take in takes:
            n = _position(take.shot_key.rsplit("/", 1)[1])
            failed = n % 5 == 0 and take.number == 1
            catalog.update_take(take.id, status=TakeStatus.FAILED if failed else TakeStatus.APPROVED)
            tried = ["gemini", "gemini", "local"] if n % 4 == 0 else ["local"]  # a failover, called twice
            for provider in tried:
                s.add(
                    ProviderAttempt(take_id=take.id, batch_id=BATCH, stage="render", provider=provider, status="failed")
                )
            s.add(
                ProviderAttempt(take_id=take.id, batch_id=BATCH, stage="review", provider="judge", status="succeeded")
            )


@pytest.fixture
def grid(catalog: Catalog, tmp_path: Path) -> Catalog:
    _batch(catalog, tmp_path / "out")
    return catalog


def _expected(catalog: Catalog, which: str) -> list[str]:
    """The shot ids a filter keeps, worked out from every row (what the page showed before paging)."""
    failed_takes = {t.shot_key for t in catalog.batch_takes(BATCH) if t.status == TakeStatus.FAILED}
    keep = {
        "all": lambda s: True,
        "waiting": lambda s: s.stage in (ShotStage.AWAITING_APPROVAL, ShotStage.AWAITING_BUDGET),
        "rejected": lambda s: s.stage == ShotStage.REJECTED,
        "failed": lambda s: s.stage == ShotStage.FAILED or s.key in failed_takes,
    }[which]
    return [s.shot_id for s in catalog.shots(BATCH) if keep(s)]


def test_the_filter_buttons_count_what_each_filter_keeps(grid: Catalog) -> None:
    counts = shot_filter_counts(grid, BATCH)
    assert counts == {which: len(_expected(grid, which)) for which in SHOT_FILTERS}
    assert counts["all"] == SHOTS and 0 < counts["failed"] < counts["all"]  # a failed take counts its shot


def test_page_two_of_a_filter_shows_the_next_shots_in_storyboard_order(grid: Catalog) -> None:
    failed = _expected(grid, "failed")
    page = shot_cards(grid, BATCH, "failed", offset=5, limit=5)
    assert [card.shot_id for card in page] == failed[5:10]
    assert [card.shot_id for card in shot_cards(grid, BATCH, "all", offset=24, limit=24)] == _expected(grid, "all")[24:]
    assert shot_cards(grid, BATCH, "waiting", offset=100, limit=24) == []


@pytest.mark.parametrize("which", SHOT_FILTERS)
def test_the_pages_together_are_every_shot_the_filter_keeps_with_its_takes(grid: Catalog, which: str) -> None:
    cards = [card for offset in range(0, SHOTS, 7) for card in shot_cards(grid, BATCH, which, offset=offset, limit=7)]
    assert [card.shot_id for card in cards] == _expected(grid, which)
    for card in cards:
        n = _position(card.shot_id)
        assert [take.number for take in card.takes] == list(range(1, n % 3 + 2))
        assert all(take.providers_tried == (("gemini", "local") if n % 4 == 0 else ("local",)) for take in card.takes)
        assert card.failed_takes == (1 if n % 5 == 0 else 0)
        assert [take.chosen for take in card.takes][:1] == [card.stage == ShotStage.PUBLISHED]


def test_an_unknown_filter_is_refused(grid: Catalog) -> None:
    with pytest.raises(ValueError, match="unknown filter 'done'"):
        shot_cards(grid, BATCH, "done")


def test_the_streamed_manifest_is_the_json_of_every_file_in_storyboard_order(
    grid: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "CHUNK", 3)  # several chunks, one cut inside a shot's files
    out = tmp_path / "out"
    out.mkdir()
    published = [s for s in reversed(grid.shots(BATCH)) if s.stage == ShotStage.PUBLISHED]  # published backwards
    with grid.session() as s:
        for shot in published:
            for number in (1, 2) if shot.position % 3 else (1,):
                name = f"{shot.shot_id}-{number}.png"
                Image.new("RGB", (8, 8), (shot.position, 0, 0)).save(out / name)
                s.add(
                    Publication(batch_id=BATCH, shot_key=shot.key, take_id=f"{shot.key}/{number}", path=str(out / name))
                )
    text = write_manifest(grid, BATCH, sheet_page=4).read_text()
    manifest = json.loads(text)
    assert text == json.dumps(manifest, indent=2)  # byte for byte what one json.dumps wrote
    order = [s.shot_id for s in sorted(published, key=lambda s: s.position)]
    files = [f"{sid}-{n}.png" for sid in order for n in ((1, 2) if _position(sid) % 3 else (1,))]
    assert [line["file"] for line in manifest["files"]] == files
    assert all(
        line["recipe"]["take_id"] == f"{BATCH}/{line['file'][:-4].replace('-', '/')}" for line in manifest["files"]
    )
    sheets = manifest["contact_sheets"]
    assert len(sheets) == -(-len(files) // 4) and all((out / name).exists() for name in sheets)
    assert not list(out.glob(".tmp-*"))  # the manifest's temp file was renamed into place
