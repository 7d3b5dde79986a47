"""`studio find --prompt` answers from the full-text index (SQLite FTS5, Postgres GIN): words in
any order, each beginning a word of the prompt; older batches found as well as new ones; takes
written after the index was built (the triggers on SQLite) found too. On Postgres in CI's second
pass. And the year-of-history generator writes a catalog the studio reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.scale.catalog_gen import MIN_BATCHES, generate
from bench.scale.words import RARE
from studio.batches.lineage import find_takes
from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.cli import main
from studio.settings import Settings


def _batch(catalog: Catalog, batch_id: str, prompts: list[str]) -> list[str]:
    """A batch with one shot per prompt, one take each; returns the take ids."""
    catalog.add_batch(
        Batch(
            id=batch_id,
            project_name=batch_id,
            project_slug=batch_id,
            project_source="p.toml",
            project_key="k",
            seed=1,
            output_dir=f"/tmp/{batch_id}",
        )
    )
    shots = [
        Shot(
            key=f"{batch_id}/s{n}",
            batch_id=batch_id,
            shot_id=f"s{n}",
            position=n,
            prompt=p,
            width=8,
            height=8,
            variants=1,
        )
        for n, p in enumerate(prompts)
    ]
    takes = [
        Take(id=f"{s.key}/1", batch_id=batch_id, shot_key=s.key, number=1, prompt=s.prompt, width=8, height=8)
        for s in shots
    ]
    catalog.add_shots(batch_id, shots, takes)
    return [t.id for t in takes]


def _found(catalog: Catalog, prompt: str) -> set[str]:
    return {t.id for t in find_takes(catalog, prompt=prompt, limit=500)}


def test_find_matches_words_in_any_order_at_the_start_of_words(catalog: Catalog) -> None:
    dusk, storm, _twilight = _batch(
        catalog,
        "words-aaaaaa",
        ["A Lighthouse at dusk, wide shot", "lighthouse keeper in a storm", "twilight over the harbour"],
    )
    assert _found(catalog, "lighthouse") == {dusk, storm}
    assert _found(catalog, "LIGHT") == {dusk, storm}  # a word's start, whatever its case
    assert _found(catalog, "dusk lighthouse") == {dusk}  # every word, in any order
    assert _found(catalog, "light storm keeper") == {storm}
    assert _found(catalog, "light") == {dusk, storm}  # not "twilight": a word's middle is not its start
    assert _found(catalog, "lighthouse harbour") == set()
    assert _found(catalog, "ship") == set()


def test_a_word_only_an_older_batch_has_is_found_among_newer_ones(catalog: Catalog) -> None:
    (old,) = _batch(catalog, "old-aaaaaa", ["an airship over the zeppelin field"])
    for n in range(3):
        _batch(catalog, f"new-{n:06x}", [f"a harbour at night {n}", "a harbour at dawn"])
    assert _found(catalog, "zeppelin") == {old}
    assert len(_found(catalog, "harbour")) == 6


def test_takes_written_after_the_index_was_built_are_found(catalog: Catalog) -> None:
    (first,) = _batch(catalog, "late-aaaaaa", ["a kite over the dunes"])
    # A new round (written through the ORM, not Core) carries the note in its prompt.
    (rework,) = catalog.add_round("late-aaaaaa/s0", 2, "with a red balloon", seeds=[3])
    assert _found(catalog, "balloon") == {rework}
    assert _found(catalog, "kite dunes") == {first, rework}
    # A changed prompt is found by its new words and no longer by its old ones.
    catalog.update_take(first, prompt="a paper boat on the canal")
    assert _found(catalog, "canal") == {first}
    assert _found(catalog, "kite") == {rework}


def test_studio_find_prompt_prints_the_matching_takes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Catalog.open(settings.catalog_url)
    (dusk, _) = _batch(catalog, "cli-aaaaaa", ["a lighthouse at dusk", "a lighthouse at noon"])
    monkeypatch.setenv("STUDIO_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["find", "--prompt", "dusk light", "--json"]) == 0
    assert [row["take"] for row in json.loads(capsys.readouterr().out)] == [dusk]


def test_the_generator_writes_a_catalog_studio_status_reads(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = generate(settings.catalog_url, takes=1000, out=tmp_path / "published")
    assert gen.takes == 1000 and len(gen.batches) == MIN_BATCHES  # as many as status shows, smaller
    catalog = Catalog.open(settings.catalog_url)
    assert sum(b.total_takes for b in catalog.batches()) == 1000
    assert catalog.take(gen.chain_end).parent_take_id is not None
    assert {t.batch_id for t in find_takes(catalog, prompt=RARE)} == {gen.batches[0]}
    monkeypatch.setenv("STUDIO_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["status", "--json"]) == 0
    assert {row["batch"] for row in json.loads(capsys.readouterr().out)} == set(gen.batches)
    assert main(["status", gen.newest, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "waiting"
