"""Launching a batch, the part before Temporal: validate, store the project, write the batch row."""

from __future__ import annotations

from pathlib import Path

from studio.assets import AssetStore
from studio.catalog import Catalog
from studio.models import Batch
from studio.project import Project, load_project
from studio.settings import Settings
from studio.storyboard import new_batch_id, new_batch_seed


def project_file(path: str | Path) -> Path:
    """The project.toml a path names (the path itself, or the file inside the folder)."""
    p = Path(path)
    return p / "project.toml" if p.is_dir() else p


def prepare_batch(settings: Settings, catalog: Catalog, assets: AssetStore, path: str | Path) -> tuple[Batch, Project]:
    """Validate the project at ``path`` and write its batch row; nothing is written on bad input.

    Raises:
        ProjectError: The project file is invalid (one line naming file, shot and field).
    """
    project = load_project(path)
    source = project_file(path).resolve()
    key = assets.put(source.read_bytes(), "text/plain")
    batch_id = new_batch_id(project.slug)
    base = Path(project.publish.path) if project.publish.path else settings.published_dir
    batch = Batch(
        id=batch_id,
        project_name=project.name,
        project_slug=project.slug,
        project_source=str(source),
        project_key=key,
        seed=project.seed if project.seed is not None else new_batch_seed(),
        approval_required=project.approval.required,
        output_dir=str(base / batch_id),
        total_shots=len(project.shots),
        total_takes=project.total_takes,
    )
    return catalog.add_batch(batch), project
