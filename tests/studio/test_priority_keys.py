"""A batch's priority and client: from the project file and `studio run --priority` to the batch
row, the client weights setting, and what Temporal is handed (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.client.batches import batch_priority
from studio.batches.launch import prepare_batch
from studio.batches.reprioritize import PriorityRefused, check_priority_change, record_priority
from studio.catalog.store import Catalog
from studio.cli import main
from studio.priority import fairness_key, parse_weights
from studio.project.loader import ProjectError, parse_project
from studio.settings import Settings
from studio.states import BatchState
from studio.storage import AssetStore
from tests.support.projects import write_project

SHOTS = '[[shots]]\nid = "s01"\nprompt = "a lighthouse"\n'


def parse(project_lines: str) -> object:
    return parse_project(f'[project]\nname = "Reel One"\n{project_lines}\n{SHOTS}', source="p.toml", base_dir=Path("."))


def test_a_project_names_its_priority_and_client() -> None:
    project = parse('priority = "rush"\nclient = "acme"')
    assert (project.priority, project.client) == ("rush", "acme")  # type: ignore[attr-defined]  # a Project
    plain = parse("")
    assert (plain.priority, plain.client) == ("normal", None)  # type: ignore[attr-defined]  # a Project


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('priority = "urgent"', "field 'project.priority': must be one of rush, normal, low (got 'urgent')"),
        ('client = "  "', "field 'project.client': must not be empty"),
        # 40 characters, 80 bytes: Temporal's fairness key is counted in bytes.
        ('client = "' + "é" * 40 + '"', "field 'project.client': at most 64 bytes in UTF-8 (got 80)"),
    ],
)
def test_a_bad_priority_or_client_is_one_line(line: str, said: str) -> None:
    with pytest.raises(ProjectError) as refused:
        parse(line)
    assert str(refused.value) == f"p.toml: {said}"


def test_the_batch_row_takes_the_projects_priority_and_client_or_the_override(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    folder = write_project(tmp_path / "p", f'[project]\nname = "Reel One"\npriority = "low"\nclient = "acme"\n{SHOTS}')
    batch, _ = prepare_batch(settings, catalog, assets, folder)
    assert (batch.priority, batch.client) == ("low", "acme")
    rushed, _ = prepare_batch(settings, catalog, assets, folder, priority="rush")
    assert (rushed.priority, rushed.client) == ("rush", "acme")
    bare = write_project(tmp_path / "q", f'[project]\nname = "Reel Two"\n{SHOTS}')
    own, _ = prepare_batch(settings, catalog, assets, bare)
    assert (own.priority, own.client) == ("normal", "reel-two"), "the project is its own client"


def test_temporal_gets_the_priority_key_the_client_and_its_weight(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    weighted = settings.model_copy(update={"client_weights": "acme=2.5, northwind=1"})
    folder = write_project(tmp_path / "p", f'[project]\nname = "Reel"\nclient = "acme"\n{SHOTS}')
    batch, _ = prepare_batch(weighted, catalog, assets, folder, priority="rush")
    priority = batch_priority(weighted, batch)
    assert (priority.priority_key, priority.fairness_key, priority.fairness_weight) == (1, "acme", 2.5)
    batch.client, batch.priority = "someone-else", "low"
    assert (batch_priority(weighted, batch).priority_key, batch_priority(weighted, batch).fairness_weight) == (5, 1.0)


def test_client_weights_parse_and_refuse() -> None:
    assert parse_weights("acme=2, northwind = 0.5,") == {"acme": 2.0, "northwind": 0.5}
    assert parse_weights("") == {}
    for bad, said in [
        ("acme", "expected client=weight"),
        ("acme=0", "above 0"),
        ("acme=lots", "not a number"),
        ("acme=1,acme=2", "given twice"),
        ("acme=nan", "above 0"),
    ]:
        with pytest.raises(ValueError, match=said):
            parse_weights(bad)


def test_bad_client_weights_stop_a_command_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    monkeypatch.setenv("STUDIO_CLIENT_WEIGHTS", "acme=2,northwind")
    assert main(["nodes", "--no-probe"]) == 2
    said = "expected client=weight entries separated by commas, got 'northwind'"
    assert capsys.readouterr().err == f"studio: bad settings: STUDIO_CLIENT_WEIGHTS: {said}\n"


def test_a_fairness_key_is_cut_to_64_bytes_on_a_character() -> None:
    assert fairness_key("é" * 40) == "é" * 32
    assert fairness_key("acme") == "acme"


def test_an_ended_batch_or_an_unknown_priority_is_refused_and_a_change_is_recorded(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    batch, _ = prepare_batch(
        settings, catalog, assets, write_project(tmp_path / "p", f'[project]\nname = "R"\n{SHOTS}')
    )
    with pytest.raises(PriorityRefused, match="no priority 'urgent': use one of rush, normal, low"):
        check_priority_change(catalog, batch.id, "urgent")
    record_priority(catalog, batch.id, "rush")
    assert catalog.batch(batch.id).priority == "rush"
    catalog.set_batch_state(batch.id, BatchState.PUBLISHED)
    with pytest.raises(PriorityRefused, match=r"it has ended \(published\): no shot is left to start"):
        check_priority_change(catalog, batch.id, "low")
