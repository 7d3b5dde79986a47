"""Self-hosted providers in a project file: ``[providers.comfyui]`` / ``[providers.a1111]`` and workflows.

A shot whose chain holds ``comfyui`` renders a ComfyUI workflow of the creator's own, named by
``[providers.comfyui] workflow`` or by the shot itself. Each workflow file is read, parsed and
checked here, once, when the project is checked (``studio run --check``), by the same functions
the adapter fills it with (:mod:`providers.comfyui.workflow`), so a workflow in UI format, with an
unknown placeholder or one of the wrong type is refused before anything starts. The checked
graphs stay on the project (``Project.workflows``) for the launch to store with the batch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.comfyui.workflow import WorkflowProblem, check_workflow, parse_workflow
from studio.project.fields import COMFYUI, PROVIDERS, TOP_KEYS, Kind
from studio.project.paths import UploadRules, read_workflow_path, shown_path
from studio.project.reading import read
from studio.project.schema import Section
from studio.rendering.chain import canonical

__all__ = ["MAX_WORKFLOW_BYTES", "SelfHosted", "load_workflow"]

MAX_WORKFLOW_BYTES = 5_000_000
"""Largest workflow file read: an SDXL graph is a few kilobytes, so more is not a workflow."""
WORKFLOW = "workflow"


def load_workflow(path: str, *, source: str) -> dict[str, Any]:
    """Read, parse and check the ComfyUI workflow at ``path``.

    Args:
        path: The file.
        source: Its name as the project wrote it, shown in problems.

    Returns:
        The workflow (API format, placeholders unfilled).

    Raises:
        WorkflowProblem: Too large, not JSON, in UI format, or not one the studio can drive.
        OSError: The file cannot be read.
    """
    if os.path.getsize(path) > MAX_WORKFLOW_BYTES:
        raise WorkflowProblem(source, f"is larger than {MAX_WORKFLOW_BYTES // 1_000_000} MB: not a workflow")
    workflow = parse_workflow(Path(path).read_bytes(), source=source)
    check_workflow(workflow, source=source)
    return workflow


@dataclass
class SelfHosted:
    """What a project says about self-hosted providers, read while the project is checked.

    Attributes:
        base_dir: The project folder (relative workflow paths start there).
        uploads: The rules of a project uploaded on the dashboard, or None.
        check_files: Whether to read and check the workflow files (not when a batch re-reads
            the project it launched: the workflows were stored then).
        options: Each provider's options that are set (no workflow), by provider.
        workflow: Absolute path of ``[providers.comfyui] workflow``, or None.
        workflows: Each workflow file read so far, by absolute path.
    """

    base_dir: Path
    uploads: UploadRules | None
    check_files: bool
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    workflow: str | None = None
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def read(self, root: Section) -> None:
        """Read ``[providers]``: every sub-table's options, and the project's workflow (checked).

        Raises:
            Invalid: An unknown provider or key, a value out of bounds, or a bad workflow file.
        """
        section = root.table(PROVIDERS.name) or Section({}, PROVIDERS.name)
        section.reject_unknown(PROVIDERS.keys, TOP_KEYS)
        for table in PROVIDERS.tables:
            sub = section.table(table.name) or Section({}, section.path(table.name))
            sub.reject_unknown(table.keys, TOP_KEYS)
            values = {f.name: read(sub, f) for f in table.fields if f.kind is not Kind.PATH and sub.has(f.name)}
            if values:
                self.options[table.name] = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
            if table.name == COMFYUI:
                self.workflow = self._workflow(sub)

    def shot_workflow(self, section: Section, chain: Sequence[str] | None) -> str | None:
        """The workflow a shot renders with (its own, else the project's), checked; None when it has none.

        Raises:
            Invalid: A bad workflow file, or a chain holding comfyui with no workflow to render.
        """
        path = self._workflow(section) or self.workflow
        if path is None and chain is not None and any(canonical(name) == COMFYUI for name in chain):
            section.fail(
                WORKFLOW,
                f"the chain holds {COMFYUI}, which renders a workflow of your own: set workflow in "
                f'[providers.{COMFYUI}] or in this shot (a JSON file ComfyUI\'s "Export (API)" writes)',
            )
        return path

    def _workflow(self, section: Section) -> str | None:
        """Read the ``workflow`` key of ``section`` and (once per file) the file it names."""
        named = read_workflow_path(section, self.base_dir, self.uploads)
        if named is None:
            return None
        given, path = named
        if self.check_files and path not in self.workflows:
            try:
                self.workflows[path] = load_workflow(path, source=given)
            except WorkflowProblem as problem:
                section.fail(WORKFLOW, str(problem))
            except FileNotFoundError:
                section.fail(WORKFLOW, f"file not found: {shown_path(path)}")
            except OSError as exc:  # a folder, no permission, a name too long
                section.fail(WORKFLOW, f"cannot read {shown_path(path)}: {exc.strerror or exc}")
        return path
