"""The dashboard runs with Streamlit's "magic" off (studio/cli/dashboard.py), which AppTest leaves on:
a bare expression in a page would show under AppTest and vanish in the real dashboard."""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

from studio.cli.dashboard import APP, dashboard_command
from studio.settings import Settings

UI = APP.parent
DRAWN_BY_MAGIC = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)  # anything else a bare line holds


def _bare(node: ast.Expr) -> bool:
    """A statement that is only an expression, other than a call or a docstring."""
    if isinstance(node.value, DRAWN_BY_MAGIC):
        return False
    return not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))


def test_the_dashboard_runs_without_magic_and_no_page_relies_on_it() -> None:
    args = dashboard_command(Settings(home=Path("/nonexistent"), _env_file=None))
    assert dict(pairwise(args))["--runner.magicEnabled"] == "false"
    bare = [
        f"{path.relative_to(UI)}:{node.lineno}"
        for path in sorted(UI.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Expr) and _bare(node)
    ]
    assert bare == [], "magic would draw these; write st.write(...) instead"
