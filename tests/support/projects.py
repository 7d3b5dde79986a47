"""Where the repository and its sample projects are, and writing a project file for a test."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_projects"


def write_project(folder: Path, body: str) -> Path:
    """Write ``body`` as ``folder/project.toml`` (making the folder) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.toml").write_text(body)
    return folder
