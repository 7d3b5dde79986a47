"""The shape rules of the house style, checked on every run: small files, short functions.

A file over 400 lines is split by subject; a function over 60 lines either gets split or says in
its docstring why it reads better whole ("Long because ...").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("studio", "pipelines", "providers", "ui", "tests", "bench")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
REASON = "Long because"


def _sources() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > MAX_FUNCTION_LINES and REASON not in (ast.get_docstring(node) or ""):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_the_rules_see_the_code() -> None:
    # Guards the two tests below against passing because they looked at nothing.
    assert len(_sources()) > 150


def test_no_file_is_over_400_lines() -> None:
    long = [
        f"{p.relative_to(ROOT)} ({n} lines)"
        for p in _sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    ]
    assert not long, "split these files by subject: " + ", ".join(long)


@pytest.mark.parametrize("folder", FOLDERS)
def test_long_functions_say_why(folder: str) -> None:
    long = [f for p in _sources() if p.relative_to(ROOT).parts[0] == folder for f in _long_functions(p)]
    assert not long, f"split these functions or say why in the docstring ('{REASON} ...'): " + "; ".join(long)
