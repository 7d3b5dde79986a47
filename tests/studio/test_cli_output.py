"""What `studio status`, `studio find` and `studio run` print, read as a user reads them: the CLI
run in process on a real catalog (no Temporal needed), in a terminal of a fixed width."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from studio.catalog.store import Catalog
from studio.cli import display, lineage, main
from studio.settings import Settings
from studio.spending.money import usd
from studio.storage import open_asset_store
from tests.support.projects import SAMPLES, write_project
from tests.ui.app_harness import populate_batch

# Long ids on purpose: a 41-character batch id, so a 70-character take id.
LONG = """
[project]
name = "The Lighthouse Keeper's Long Night"
seed = 5
[defaults]
size = "64x64"
variants = 2
upscale = 1
[[shots]]
id = "s01-establishing-wide-shot"
prompt = "A lone white lighthouse on a black basalt cliff above a grey sea, late afternoon, gulls circling"
[[shots]]
id = "s02-keeper"
prompt = "An old keeper polishing the great brass lens, warm interior light"
"""
NOTES = "the horizon tilts to the left and the gulls are smudged into the cliff face " * 3
KEYS = ("MISTRAL_API_KEY", "GEMINI_API_KEY", "REPLICATE_API_TOKEN", "FAL_KEY")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A studio home of this test's own, which the CLI reads from the environment."""
    for name in ("DATABASE_URL", "STUDIO_ASSETS", "STUDIO_LOG_FORMAT", "STUDIO_PRICES", "TEMPORAL_ADDRESS", *KEYS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no stray .env (with keys, say) is read
    return Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., list[str]]:
    """Run `studio ARGS` in a terminal ``columns`` wide; returns the lines it printed."""

    def run(columns: int, *args: str) -> list[str]:
        monkeypatch.setenv("COLUMNS", str(columns))
        console = Console()  # what a new `studio` process makes: it reads COLUMNS
        monkeypatch.setattr(display, "console", console)
        monkeypatch.setattr(lineage, "console", console)
        capsys.readouterr()
        assert main(list(args)) == 0
        return capsys.readouterr().out.splitlines()

    return run


async def finished_batch(settings: Settings, project: Path) -> str:
    """A finished batch of ``project`` written straight into the catalog, with real local renders."""
    return await populate_batch(settings, Catalog.open(settings.catalog_url), open_asset_store(settings), project)


async def long_batch(settings: Settings, tmp_path: Path) -> tuple[str, list[str]]:
    """A finished batch with long ids and long review notes; returns its id and its take ids."""
    catalog = Catalog.open(settings.catalog_url)
    batch_id = await finished_batch(settings, write_project(tmp_path / "p", LONG))
    takes = [t.id for t in catalog.batch_takes(batch_id)]
    catalog.update_take(takes[0], review_notes=NOTES)
    return batch_id, takes


def assert_fits(lines: list[str], columns: int) -> None:
    too_wide = [line for line in lines if len(line) > columns]
    assert not too_wide, f"lines wider than {columns} columns: {too_wide}"


@pytest.mark.parametrize("columns", [80, 100])
async def test_tables_never_cut_an_id(home: Settings, tmp_path: Path, terminal, columns: int) -> None:
    batch_id, takes = await long_batch(home, tmp_path)
    other = await finished_batch(home, SAMPLES / "thumbnail-pack")
    assert len(batch_id) > 40 and len(takes[0]) > 80 - 16  # a take id fills most of an 80-column line

    listing = terminal(columns, "status")
    assert_fits(listing, columns)
    for whole in (batch_id, other):
        assert any(whole in line for line in listing), f"{whole} is cut in:\n" + "\n".join(listing)

    one = terminal(columns, "status", batch_id)
    assert_fits(one, columns)
    for take in takes:  # the takes table shows SHOT/N under the batch's heading
        assert any(take.split("/", 1)[1] in line for line in one), take
    # The review notes are prose: cut, and the cut says so.
    assert "the horizon tilts" in "\n".join(one)
    assert [line for line in one if line.rstrip().endswith("…")]

    found = terminal(columns, "find", "--batch", batch_id)
    assert_fits(found, columns)
    for take in takes:
        assert any(take in line for line in found), f"{take} is cut in:\n" + "\n".join(found)


async def test_cost_and_a_skipped_upscale_read_plainly(home: Settings, tmp_path: Path, terminal) -> None:
    batch_id, _ = await long_batch(home, tmp_path)
    lines = terminal(100, "status", batch_id)
    assert "cost: $0.00" in lines  # the dashboard's Cost says $0.00 too (tests/ui/test_labels.py)
    (upscale,) = [line for line in lines if "upscale" in line]
    assert "skipped (no shot upscales)" in upscale and "4" not in upscale  # not "4/4" done

    upscaled = await finished_batch(home, SAMPLES / "short-film")
    (upscale,) = [line for line in terminal(100, "status", upscaled) if "upscale" in line]
    assert "24" in upscale and "skipped" not in upscale  # its 24 takes upscale ×2


def test_money_reads_the_same_everywhere() -> None:
    assert [usd(x) for x in (0, 0.002, 0.039, 0.1, 0.125, 2, 1234.5)] == [
        "$0.00",
        "$0.002",
        "$0.039",
        "$0.10",
        "$0.125",
        "$2.00",
        "$1,234.50",
    ]


def test_run_says_which_provider_renders_when_keys_are_missing(
    home: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = str(SAMPLES / "thumbnail-pack")  # asks for gemini -> replicate -> fal
    assert main(["run", pack, "--check"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "studio: rendering on local (procedural preview): no key for gemini (GEMINI_API_KEY), "
        "replicate (REPLICATE_API_TOKEN), fal (FAL_KEY)"
    ]

    monkeypatch.setenv("GEMINI_API_KEY", "test-key-not-real")
    assert main(["run", pack, "--check"]) == 0
    err = capsys.readouterr().err
    assert err == "studio: rendering on gemini: no key for replicate (REPLICATE_API_TOKEN), fal (FAL_KEY)\n"
    assert "test-key-not-real" not in err

    monkeypatch.setenv("REPLICATE_API_TOKEN", "r")
    monkeypatch.setenv("FAL_KEY", "f")
    assert main(["run", pack, "--check"]) == 0
    assert capsys.readouterr().err == ""  # everything asked for can render: nothing to say


def test_shots_that_differ_are_named(home: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local_only = LONG.replace('id = "s02-keeper"', 'id = "s02-keeper"\nchain = ["local"]')
    project = write_project(tmp_path / "mixed", local_only)
    assert main(["run", str(project), "--check"]) == 0
    assert capsys.readouterr().err == (
        "studio: shot s01-establishing-wide-shot: rendering on local (procedural preview): no key for "
        "mistral (MISTRAL_API_KEY), gemini (GEMINI_API_KEY), replicate (REPLICATE_API_TOKEN), fal (FAL_KEY)\n"
    )


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("STUDIO_SHOTS_IN_FLIGHT", "0", "STUDIO_SHOTS_IN_FLIGHT: Input should be greater than or equal to 1"),
        ("COMFYUI_URLS", "gpu-box:8188", "COMFYUI_URLS: render node 'gpu-box:8188' is not an http(s)://host:port URL"),
    ],
)
def test_bad_settings_are_one_line_naming_the_variable(
    variable: str,
    value: str,
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    monkeypatch.setenv(variable, value)
    assert main(["nodes", "--no-probe"]) == 2
    err = capsys.readouterr().err
    assert err == f"studio: bad settings: {said}\n"
