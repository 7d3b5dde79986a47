"""What the Launch page needs before anything starts: the samples, uploads, and an estimate."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from studio.project import (
    PROJECT_FILE,
    Project,
    ProjectError,
    load_project,
    parse_project,
)
from studio.settings import Settings

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "sample_projects"
UPLOADS_DIR = "uploads"
MAX_UPLOAD_BYTES = 1_000_000


@dataclass(frozen=True)
class Estimate:
    """What launching a project will do.

    Attributes:
        shots: Shots in the storyboard.
        takes: Images to render (shots × variants).
        approval_required: Whether shots stop at a gate for a human.
        cost: What it will cost, in words.
    """

    shots: int
    takes: int
    approval_required: bool
    cost: str


def sample_projects(root: Path = SAMPLES_DIR) -> dict[str, Path]:
    """The sample projects by folder name (those holding a project.toml), sorted."""
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / PROJECT_FILE).is_file()}


def estimate(project: Project) -> Estimate:
    """Shots, takes and cost of launching ``project``.

    Every render currently runs on the local procedural preview renderer, so the cost is zero;
    this is where per-provider pricing plugs in once paid providers are wired.
    """
    return Estimate(
        shots=len(project.shots),
        takes=project.total_takes,
        approval_required=project.approval.required,
        cost="free with the local provider",
    )


def upload_folder(settings: Settings, data: bytes) -> Path:
    """Where an uploaded project file is kept: ``HOME/uploads/<hash of its bytes>``.

    Named by content, so uploading the same file twice reuses the folder and a launched
    batch's source never changes under it.
    """
    return settings.home / UPLOADS_DIR / hashlib.sha256(data).hexdigest()[:16]


def _upload_text(name: str, data: bytes) -> str:
    if len(data) > MAX_UPLOAD_BYTES:
        raise ProjectError(name, f"file is larger than {MAX_UPLOAD_BYTES // 1000} kB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectError(name, "not UTF-8 text (TOML files must be UTF-8)") from None


def load_upload(settings: Settings, name: str, data: bytes) -> Project:
    """Parse an uploaded project file without keeping it.

    Relative paths in it (``reference``, ``publish.path``) resolve against its upload folder,
    which holds nothing else: a project that needs its own files is launched from its folder.

    Raises:
        ProjectError: Too large, not UTF-8, or an invalid project.
    """
    return parse_project(_upload_text(name, data), source=name, base_dir=upload_folder(settings, data))


def save_upload(settings: Settings, name: str, data: bytes) -> Path:
    """Validate and keep an uploaded project file; returns the folder holding its project.toml.

    Raises:
        ProjectError: Too large, not UTF-8, or an invalid project (nothing is kept then).
    """
    load_upload(settings, name, data)
    folder = upload_folder(settings, data)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PROJECT_FILE
    if not target.exists():
        target.write_bytes(data)
    return folder


def load_sample(name: str, root: Path = SAMPLES_DIR) -> Project:
    """Load the sample project ``name``.

    Raises:
        ProjectError: No such sample, or it is invalid.
    """
    return load_project(root / name)
