"""Revision ids read straight from the version files, without importing Alembic.

Alembic's import costs about 80 ms, and every process that opens the catalog would pay it only
to learn that nothing is to be done. Reading the ``revision`` / ``down_revision`` assignments
of a handful of small files costs well under a millisecond. ``tests/studio/test_migrations.py``
checks that this agrees with Alembic's own view.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

VERSIONS_DIR = Path(__file__).with_name("versions")


@functools.cache
def _parents() -> dict[str, frozenset[str]] | None:
    """Each revision's parents, or None when a file is not one written from our template."""
    parents: dict[str, frozenset[str]] = {}
    for path in VERSIONS_DIR.glob("*.py"):
        if path.name.startswith("_"):
            continue
        values = _assignments(path)
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None  # let Alembic read it
        if isinstance(down, str):
            parents[revision] = frozenset([down])
        elif isinstance(down, (tuple, list)):
            parents[revision] = frozenset(str(d) for d in down)
        else:
            parents[revision] = frozenset()
    return parents


def known_revisions() -> frozenset[str] | None:
    """Every revision id in the version files (None: unreadable without Alembic)."""
    parents = _parents()
    return None if parents is None else frozenset(parents)


def head_revision() -> str | None:
    """The newest revision id, or None when there is none, the history has branches, or a file
    is unreadable without Alembic."""
    parents = _parents()
    if parents is None:
        return None
    heads = set(parents) - {p for ps in parents.values() for p in ps}
    return heads.pop() if len(heads) == 1 else None


def forget() -> None:
    """Read the files again at the next call (after a revision file was written)."""
    _parents.cache_clear()


def _assignments(path: Path) -> dict[str, object]:
    """The module-level ``revision`` and ``down_revision`` literals of one version file."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            found[target.id] = ast.literal_eval(value)
    return found
