"""A new user's first minutes: `make demo`'s last lines and the top of the README say how to reach
`studio` (it lives in the virtualenv, not on the PATH) and what to do next."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from studio.catalog.store import Catalog
from studio.cli.next_steps import main, next_steps
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.support.projects import ROOT, SAMPLES
from tests.ui.app_harness import populate_batch


async def test_next_steps_name_the_activation_the_dashboard_and_the_published_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(home=tmp_path / "home", _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    batch_id = await populate_batch(
        settings, Catalog.open(settings.catalog_url), open_asset_store(settings), SAMPLES / "thumbnail-pack"
    )
    lines = next_steps(settings, ".venv")
    text = "\n".join(lines)
    assert ". .venv/bin/activate" in text and "PATH" in text
    assert settings.dashboard_url in text
    assert "studio status" in text and "make down" in text
    (published,) = [line for line in lines if "published" in line]
    assert str(settings.published_dir / batch_id) in published and "manifest.json" in published

    # As the Makefile runs it: settings from the environment, the virtualenv as its argument.
    monkeypatch.setenv("STUDIO_HOME", str(settings.home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["/opt/venv"]) == 0
    assert ". /opt/venv/bin/activate" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_ends_with_the_next_steps() -> None:
    # Run from `make test` too: a parent make's variables would add "Entering directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    assert planned.stdout.strip().splitlines()[-1] == ".venv/bin/python -m studio.cli.next_steps .venv"


def test_readme_starts_with_the_two_commands_then_says_how_to_reach_studio() -> None:
    readme = (ROOT / "README.md").read_text()
    top, after = readme.split("```\n", 2)[1:]
    assert [line.split()[:2] for line in top.strip().splitlines()] == [["make", "demo"], ["make", "test"]]
    first_paragraph = after.strip().split("\n\n", 1)[0]
    assert ". .venv/bin/activate" in first_paragraph and "studio" in first_paragraph
