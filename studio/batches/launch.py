"""Launching a batch, the part before Temporal: validate, store the project, write the batch row."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio.batches.preview import rules_for
from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.ids import new_batch_id
from studio.project.loader import Project, load_project
from studio.project.storyboard import new_batch_seed, workflow_ref
from studio.settings import Settings
from studio.storage.local import AssetStore


def project_file(path: str | Path) -> Path:
    """The project.toml a path names (the path itself, or the file inside the folder)."""
    p = Path(path)
    return p / "project.toml" if p.is_dir() else p


def prepare_batch(
    settings: Settings,
    catalog: Catalog,
    assets: AssetStore,
    path: str | Path,
    *,
    priority: str | None = None,
    use_cache: bool | None = None,
) -> tuple[Batch, Project]:
    """Validate the project at ``path`` and write its batch row; nothing is written on bad input.

    A project in the dashboard's uploads folder is held to the upload rules again here, so what
    starts is what the Launch page checked, whoever calls this.

    Args:
        priority: ``rush``, ``normal`` or ``low`` instead of the project's ``[project] priority``.
        use_cache: ``False`` (``studio run --no-cache``) renders every take even when the project
            allows reusing identical earlier renders; ``None`` follows ``[project] cache``.

    Raises:
        ProjectError: The project file is invalid (one line naming file, shot and field).
    """
    project = load_project(path, uploads=rules_for(settings, path))
    source = project_file(path).resolve()
    extra: dict[str, Any] = {"priority": priority} if priority is not None else {}
    if use_cache is not None:
        extra["use_cache"] = use_cache
    batch = batch_row(settings, assets, project, source, source.read_bytes(), **extra)
    return catalog.add_batch(batch), project


def store_references(assets: AssetStore, project: Project) -> dict[str, str]:
    """Store each shot's sketch; returns their asset keys by shot id."""
    return {
        spec.id: assets.put(Path(spec.reference).read_bytes(), mimetypes.guess_type(spec.reference)[0] or "image/png")
        for spec in project.shots
        if spec.reference
    }


def workflow_json(workflow: Mapping[str, Any]) -> bytes:
    """A workflow's canonical JSON (keys sorted, compact): one asset however its file was laid out.

    The same text :func:`providers.comfyui.workflow.workflow_sha256` hashes, so the asset key is
    ``<the recipe's workflow_sha256>.json``.
    """
    return json.dumps(workflow, sort_keys=True, separators=(",", ":")).encode("utf-8")


def store_workflows(assets: AssetStore, project: Project) -> dict[str, str]:
    """Store each workflow the shots render with; returns their asset keys by :func:`workflow_ref`.

    Stored now, with the project text, like the sketches: the batch renders the graphs that were
    checked, whatever happens to the files later, and a replay or rerun finds them by key.
    """
    keys = {path: assets.put(workflow_json(graph), "application/json") for path, graph in project.workflows.items()}
    return {workflow_ref(spec.id): keys[spec.workflow] for spec in project.shots if spec.workflow in keys}


def batch_row(
    settings: Settings, assets: AssetStore, project: Project, source: Path, text: bytes, **extra: Any
) -> Batch:
    """The batch row of a validated project (not yet written); stores its text and sketches.

    Args:
        source: The project file (kept so a rerun can read the file as edited since).
        text: The project file's bytes as launched.
        extra: Batch fields to set (a rerun's kind, parent, seed, ...).
    """
    key = assets.put(text, "text/plain")
    # Sketches and workflows are stored now, with the project text: the folder may change before the renders.
    references = extra.pop("references", None)
    if references is None:
        references = store_references(assets, project) | store_workflows(assets, project)
    batch_id = new_batch_id(project.slug)
    base = Path(project.publish.path) if project.publish.path else settings.published_dir
    fields: dict[str, Any] = dict(
        id=batch_id,
        project_name=project.name,
        project_slug=project.slug,
        # The fairness key: the project's client, else the project is its own client.
        client=project.client or project.slug,
        priority=project.priority,
        use_cache=project.cache,
        project_source=str(source),
        project_key=key,
        seed=project.seed if project.seed is not None else new_batch_seed(),
        approval_required=project.approval.required,
        watermark=project.approval.watermark,
        output_dir=str(base / batch_id),
        total_shots=len(project.shots),
        total_takes=project.total_takes,
        budget_usd=project.budget_usd,
        references=references,
    )
    fields.update(extra)
    return Batch(**fields)
