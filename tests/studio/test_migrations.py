"""The catalog's schema revisions: a catalog made by an earlier studio upgrades without losing a
row, the models never drift from the newest revision, and operators see and drive it with
`studio db`. On SQLite, and on Postgres in CI's second pass (the earlier catalog is copied there).

tests/fixtures/catalog-prev-release.db was written by the release before revisions existed, by
tests/fixtures/make_prev_release_catalog.py: a gated batch (approved, rejected and changed
shots) and a rerun of its rejected shot.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, Integer, MetaData, create_engine, inspect, text
from sqlmodel import SQLModel

from studio.catalog.migrations import upgrade
from studio.catalog.migrations.revisions import head_revision, known_revisions
from studio.catalog.migrations.schema import alembic_config
from studio.catalog.models import Approval, Batch
from studio.catalog.search_queries import not_search_index
from studio.catalog.store import Catalog
from studio.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "catalog-prev-release.db"
BATCH, RERUN = "harbour-lights-469a6a", "harbour-lights-954917"
# Columns the first release did not have (``add_missing_columns`` added them at open since).
LATER_COLUMNS = {
    "batch": ["budget_usd", "spending_stopped", "kind", "rerun_only", "references"],
    "take": ["round", "init_key", "strength", "review_model"],
}


def previous_release_catalog(tmp_path: Path, backend: dict[str, str]) -> str:
    """The fixture catalog on this run's backend: the file itself on SQLite; on Postgres, its
    tables (as reflected) and every row, in the test's fresh database."""
    path = tmp_path / "catalog.db"
    shutil.copy(FIXTURE, path)
    if "database_url" not in backend:
        return f"sqlite:///{path}"
    url = backend["database_url"]
    source, target = create_engine(f"sqlite:///{path}"), create_engine(url)
    tables = MetaData()
    tables.reflect(source)
    for table in tables.sorted_tables:
        for column in table.columns:
            # SQLite's own types as the portable ones the previous release's models declared.
            column.type = DateTime(timezone=True) if isinstance(column.type, DateTime) else column.type.as_generic()
    tables.create_all(target)
    with source.connect() as read, target.begin() as write:
        for table in tables.sorted_tables:
            rows = [dict(row._mapping) for row in read.execute(table.select())]
            if rows:
                write.execute(table.insert(), rows)
            if "id" in table.c and isinstance(table.c.id.type, Integer):  # serial ids go on after the copied ones
                write.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                    )
                )
    source.dispose()
    target.dispose()
    return url


def every_row(url: str, tables: MetaData) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``tables`` (their columns only), in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: [dict(r._mapping) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for t in tables.sorted_tables
            }
    finally:
        engine.dispose()


def reflected(url: str) -> MetaData:
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    engine.dispose()
    return tables


def stored_revision(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def assert_the_studio_works_on(catalog: Catalog) -> None:
    """Reads and writes every kind of row, as the studio does after an upgrade."""
    assert {b.id for b in catalog.batches()} >= {BATCH, RERUN}
    for batch_id in (BATCH, RERUN):
        batch = catalog.batch(batch_id)
        assert isinstance(batch.rerun_only, list) and isinstance(batch.references, dict) and batch.kind
    shot, takes = catalog.shot_with_takes(f"{BATCH}/skyline")
    assert shot.stage == "published" and [t.round for t in takes] == [1, 1, 2, 2]
    assert {p.shot_key for p in catalog.publications(BATCH)} == {f"{BATCH}/lighthouse", f"{BATCH}/skyline"}
    assert [a.decision for a in catalog.approvals(shot_key=f"{BATCH}/skyline")] == ["changes", "approve"]
    catalog.add_batch(
        Batch(
            id="after-000001",
            project_name="p",
            project_slug="p",
            project_source="p.toml",
            project_key="k.txt",
            seed=1,
            output_dir="/tmp/out",
        )
    )
    catalog.add_approval(Approval(shot_key=f"{BATCH}/forest", batch_id=BATCH, round=2, decision="approve"))
    assert len(catalog.approvals(shot_key=f"{BATCH}/forest")) == 2


def test_a_catalog_from_the_previous_release_upgrades_without_losing_a_row(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    url = previous_release_catalog(tmp_path, backend)
    old_tables = reflected(url)
    before = every_row(url, old_tables)
    assert len(before["take"]) == 12 and len(before["providerattempt"]) > 0 and len(before["publication"]) == 5

    catalog = Catalog.open(url)

    assert every_row(url, old_tables) == before
    assert stored_revision(url) == [head_revision()]
    engine = create_engine(url)
    have = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in inspect(engine).get_table_names()}
    engine.dispose()
    for table in SQLModel.metadata.sorted_tables:
        assert set(table.columns.keys()) <= have[table.name], table.name
    assert_the_studio_works_on(catalog)


def test_a_catalog_from_the_first_release_gains_the_later_columns_with_their_values(
    tmp_path: Path, backend: dict[str, str]
) -> None:
    url = previous_release_catalog(tmp_path, backend)
    engine = create_engine(url)
    with engine.begin() as conn:  # back to the first release's schema
        conn.execute(text("DROP INDEX ix_providerattempt_provider"))
        for table, columns in LATER_COLUMNS.items():
            for column in columns:
                conn.execute(text(f'ALTER TABLE {table} DROP COLUMN "{column}"'))
    engine.dispose()
    old_tables = reflected(url)
    before = every_row(url, old_tables)

    catalog = Catalog.open(url)

    assert every_row(url, old_tables) == before
    # A batch from then was a plain project run: nothing to rerun, no sketches, no budget stop.
    for batch_id in (BATCH, RERUN):
        batch = catalog.batch(batch_id)
        assert (batch.kind, batch.rerun_only, batch.references, batch.spending_stopped) == ("project", [], {}, False)
    assert {t.round for t in catalog.batch_takes(BATCH)} == {1}
    engine = create_engine(url)
    assert "ix_providerattempt_provider" in {ix["name"] for ix in inspect(engine).get_indexes("providerattempt")}
    engine.dispose()


def fresh_url(tmp_path: Path, backend: dict[str, str]) -> str:
    return backend.get("database_url") or f"sqlite:///{tmp_path / 'catalog.db'}"


def test_the_models_match_the_newest_revision(tmp_path: Path, backend: dict[str, str]) -> None:
    # Fails when a model changes without a revision: see `python -m studio.catalog.migrations new`.
    url = fresh_url(tmp_path, backend)
    engine = create_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_name": not_search_index}  # as env.py compares
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), SQLModel.metadata)
    engine.dispose()
    assert diff == [], 'the models differ from the newest revision: run `python -m studio.catalog.migrations new "..."`'


def test_the_head_read_from_the_files_is_alembics() -> None:
    # Opening a catalog at head reads the head from the files without Alembic: it must agree.
    script = ScriptDirectory.from_config(alembic_config())
    assert head_revision() == script.get_current_head()
    assert known_revisions() == {r.revision for r in script.walk_revisions()}


def test_studio_db_current_and_upgrade(
    tmp_path: Path, backend: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = previous_release_catalog(tmp_path, backend)
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", url)
    head = head_revision()

    assert main(["db", "current"]) == 0
    assert f"no revision recorded: empty, or made by an earlier studio; the newest is {head}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"upgraded to revision {head} (from no revision recorded" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"already at revision {head}, the newest" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert f"revision {head} (the newest)" in capsys.readouterr().out
    assert stored_revision(url) == [head]


def test_studio_db_says_in_one_line_when_the_catalog_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://studio:hunter2@127.0.0.1:1/studio")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("studio: cannot reach the catalog at postgresql+psycopg://studio:***@127.0.0.1:1/studio")
    assert err.count("\n") == 1 and "hunter2" not in err


# A process of a studio older than the catalog: it opens it (revisions only add) and says so.
OPEN_NEWER = "import sys; from studio.catalog.store import Catalog; print(len(Catalog.open(sys.argv[1]).batches()))"


def test_a_catalog_newer_than_the_studio_still_opens_but_is_not_upgraded(
    tmp_path: Path, backend: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_url(tmp_path, backend)
    engine = create_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    opened = subprocess.run([sys.executable, "-c", OPEN_NEWER, url], capture_output=True, text=True, timeout=60)
    assert opened.returncode == 0 and opened.stdout.strip() == "0", opened.stderr
    assert "revision 9999, newer than this studio knows" in opened.stderr

    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 2
    assert "studio: the catalog's schema is at revision 9999, newer than this studio knows" in capsys.readouterr().err
    assert main(["db", "current"]) == 0
    assert "revision 9999, newer than this studio knows" in capsys.readouterr().out
    assert stored_revision(url) == ["9999"]


# What an engineer does for a new table, in a copy of the scripts: add the model, write the
# revision with `python -m studio.catalog.migrations new`, and open a catalog that has rows. (A table no
# release will have, so the test does not depend on what the models hold.)
NEXT_REVISION = """
import json, shutil, sys
from datetime import datetime
from pathlib import Path
from sqlmodel import Field, SQLModel
import studio.catalog.migrations.revisions as revisions
import studio.catalog.migrations.schema as schema
scripts = Path(sys.argv[1])
shutil.copytree(schema.SCRIPTS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
schema.SCRIPTS_DIR, revisions.VERSIONS_DIR = scripts, scripts / "versions"
import studio.catalog.models

class Rehearsal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    stage: str = Field(index=True)
    started_at: datetime

from studio.catalog.migrations.__main__ import main
main(["new", "add rehearsal table"])
from studio.catalog.store import Catalog
catalog = Catalog.open(sys.argv[2])
print(json.dumps({"batches": [b.id for b in catalog.batches()]}))
"""


def test_a_new_table_is_one_generated_revision_away(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = Catalog.open(url)  # a catalog at today's head, with a row
    catalog.add_batch(
        Batch(
            id="b-000001",
            project_name="p",
            project_slug="p",
            project_source="p.toml",
            project_key="k.txt",
            seed=1,
            output_dir="/tmp/out",
        )
    )
    catalog.engine.dispose()
    scripts = tmp_path / "scripts"
    out = subprocess.run(
        [sys.executable, "-c", NEXT_REVISION, str(scripts), url], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr

    number = f"{int(str(head_revision())) + 1:04d}"
    written = (scripts / "versions" / f"{number}_add_rehearsal_table.py").read_text()
    assert "op.create_table('rehearsal'" in written and "sqlmodel" not in written
    assert json.loads(out.stdout.splitlines()[-1]) == {"batches": ["b-000001"]}
    assert stored_revision(url) == [number]
    engine = create_engine(url)
    assert {c["name"] for c in inspect(engine).get_columns("rehearsal")} == {"id", "stage", "started_at"}
    engine.dispose()
